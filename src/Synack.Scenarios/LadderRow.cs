using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>One rung of the ladder: a segment (delivered or lost), or a user call or timer, with both states after it.</summary>
public sealed record LadderRow(
    TimeSpan Time,
    SegmentInfo? Segment,
    bool Lost,
    string Note,
    TcpState ClientState,
    TcpState ServerState,
    uint? RelativeSeq,
    uint? RelativeAck)
{
    /// <summary>"client FA seq=1 ack=1 len=0 -> FIN-WAIT-1/CLOSE-WAIT": compact, for tests and logs.</summary>
    public override string ToString() => Segment is null
        ? $"{Note} -> {ClientState.ToRfcName()}/{ServerState.ToRfcName()}"
        : $"{Segment.From} {Segment.Flags.ToShortString()} seq={RelativeSeq} ack={RelativeAck} len={Segment.Length}{(Lost ? " LOST" : "")} -> {ClientState.ToRfcName()}/{ServerState.ToRfcName()}";
}
