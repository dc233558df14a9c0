using Synack.Wire;

namespace Synack.Analysis;

/// <summary>What one endpoint is inferred to be in after a packet. A capture cannot see CLOSE calls, so these are marked inferred.</summary>
public enum InferredState
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

/// <summary>The options one side offered in its SYN.</summary>
public sealed record SideOptions(int? Mss, int? WindowScale, bool SackPermitted, bool Timestamps);

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
    InferredState ClientState,
    InferredState ServerState,
    string? Comment)
{
    /// <summary>"S", "SA", "FA", "R", "." for a bare ACK; "P" included.</summary>
    public string FlagText => Flags.ToShortString();
}

/// <summary>One TCP conversation (Wireshark's tcp.stream).</summary>
public sealed class Conversation
{
    public int Stream { get; init; }
    public required string Client { get; init; }
    public required string Server { get; init; }
    public uint? ClientIsn { get; internal set; }
    public uint? ServerIsn { get; internal set; }
    public SideOptions? ClientOptions { get; internal set; }
    public SideOptions? ServerOptions { get; internal set; }
    public string CloseKind { get; internal set; } = "incomplete";
    public string ConnState { get; internal set; } = "OTH";
    public string History { get; internal set; } = "";
    public long ClientBytes { get; internal set; }
    public long ServerBytes { get; internal set; }
    public double? HandshakeRttMs { get; internal set; }
    public List<PacketView> Packets { get; } = [];
}
