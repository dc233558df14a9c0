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
    public bool Is(TcpFlags exactly) => Flags == exactly;
    public bool Has(TcpFlags bits) => (Flags & bits) == bits;
    public bool IsPureAck => Flags == TcpFlags.Ack && Length == 0;

    public override string ToString() =>
        $"{From}->{To} {Flags.ToShortString()} seq={Seq} ack={(Has(TcpFlags.Ack) ? Ack.ToString() : "-")} len={Length} win={Window}" +
        (Options.IsEmpty ? "" : $" <{Options}>");
}
