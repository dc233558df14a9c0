using Synack.Wire;

namespace Synack.Tcp;

/// <summary>Fixed ISNs for tests and demos that reproduce a figure's exact numbers.</summary>
public sealed class FixedIsnGenerator(uint isn, uint timestampOffset = 0) : IIsnGenerator
{
    /// <summary>Always the fixed ISN.</summary>
    public SeqNum Next(in FourTuple tuple, TimeSpan now) => new(isn);
    /// <summary>Always the fixed timestamp offset.</summary>
    public uint TimestampOffset(in FourTuple tuple) => timestampOffset;
}
