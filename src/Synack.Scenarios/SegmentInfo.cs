using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>One segment as the trace and the ladder show it.</summary>
public sealed record SegmentInfo(
    string From,
    string To,
    TcpFlags Flags,
    SeqNum Seq,
    SeqNum Ack,
    int Length,
    ushort Window,
    TcpOptions Options,
    byte[] Packet)
{
    /// <summary>True when the flags are exactly <paramref name="exactly"/>.</summary>
    public bool Is(TcpFlags exactly) => Flags == exactly;
    /// <summary>True when every flag of <paramref name="bits"/> is set.</summary>
    public bool Has(TcpFlags bits) => (Flags & bits) == bits;
    /// <summary>A bare ACK: no data, no other flag.</summary>
    public bool IsPureAck => Flags == TcpFlags.Ack && Length == 0;

    /// <summary>"client-&gt;server S. seq=... ack=... len=... win=...".</summary>
    public override string ToString() =>
        $"{From}->{To} {Flags.ToShortString()} seq={Seq} ack={(Has(TcpFlags.Ack) ? Ack.ToString() : "-")} len={Length} win={Window}" +
        (Options.IsEmpty ? "" : $" <{Options}>");
}
