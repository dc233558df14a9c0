using Synack.Tcp;
using Synack.Wire;

namespace Synack.Analysis;

/// <summary>One TCP packet of a conversation, with our reading of it.</summary>
public sealed record PacketView(
    int Frame,
    double Time,
    bool FromClient,
    TcpFlags Flags,
    uint SeqRaw,
    uint AckRaw,
    long Seq,
    long Ack,
    int Length,
    long Window,
    IReadOnlyList<string> Findings,
    TcpState ClientState,
    TcpState ServerState,
    string? Comment,
    int Stream = 0,
    bool IpChecksumBad = false,
    bool? TcpChecksumGood = null,
    IReadOnlyList<(long Left, long Right)>? Sacks = null)
{
    /// <summary>"S", "SA", "FA", "R", "." for a bare ACK; "P" included.</summary>
    public string FlagText => Flags.ToShortString();
}
