using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// The ISNs a recorded kernel run sent, handed out in turn (the last one again once they run out): a
/// kernel draws each new connection's ISN at random, so Synack's run of the same scenario takes the
/// same ones, and only a rule (a TIME-WAIT reopened by a SYN, say) can make them differ.
/// </summary>
internal sealed class ReplayedIsns(IReadOnlyList<uint> isns) : IIsnGenerator
{
    private int _next;

    public SeqNum Next(in FourTuple tuple, TimeSpan now)
    {
        var isn = isns[Math.Min(_next, isns.Count - 1)];
        _next++;
        return new SeqNum(isn);
    }

    public uint TimestampOffset(in FourTuple tuple) => 0;
}
