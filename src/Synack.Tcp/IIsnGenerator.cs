using Synack.Wire;

namespace Synack.Tcp;

/// <summary>Chooses initial sequence numbers. Injected, so tests can fix them.</summary>
public interface IIsnGenerator
{
    /// <summary>The initial sequence number for a new connection on <paramref name="tuple"/> at <paramref name="now"/>.</summary>
    SeqNum Next(in FourTuple tuple, TimeSpan now);

    /// <summary>A per-connection offset for the timestamp clock (RFC 7323 section 7.1).</summary>
    uint TimestampOffset(in FourTuple tuple);
}
