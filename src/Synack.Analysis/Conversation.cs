namespace Synack.Analysis;

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
    /// <summary>Every packet, in frame order — only when the analysis was asked to keep them (the ladder, tests); a streaming run leaves it empty.</summary>
    public List<PacketView> Packets { get; } = [];
    public long PacketCount { get; internal set; }
    public int FirstFrame { get; internal set; }
    public int LastFrame { get; internal set; }
}
