namespace Synack.Analysis;

/// <summary>One TCP conversation (Wireshark's tcp.stream).</summary>
public sealed class Conversation
{
    /// <summary>Wireshark's tcp.stream number, from 0.</summary>
    public int Stream { get; init; }
    /// <summary>The side that sent the first SYN (or the first packet), "address:port".</summary>
    public required string Client { get; init; }
    /// <summary>The other side, "address:port".</summary>
    public required string Server { get; init; }
    /// <summary>The client's ISN, when its SYN was captured.</summary>
    public uint? ClientIsn { get; internal set; }
    /// <summary>The server's ISN, when its SYN was captured.</summary>
    public uint? ServerIsn { get; internal set; }
    /// <summary>The options of the client's SYN, when captured.</summary>
    public SideOptions? ClientOptions { get; internal set; }
    /// <summary>The options of the server's SYN, when captured.</summary>
    public SideOptions? ServerOptions { get; internal set; }
    /// <summary>How the connection ended: "four-way", "three-way" (FIN+ACK), "simultaneous", "reset", "half-open" or "incomplete".</summary>
    public string CloseKind { get; internal set; } = "incomplete";
    /// <summary>Zeek's conn_state ("SF", "S0", "REJ", "RSTO", ...).</summary>
    public string ConnState { get; internal set; } = "OTH";
    /// <summary>Zeek's history letters ("ShADadFf"), each once.</summary>
    public string History { get; internal set; } = "";
    /// <summary>Payload bytes the client sent (retransmissions counted once).</summary>
    public long ClientBytes { get; internal set; }
    /// <summary>Payload bytes the server sent.</summary>
    public long ServerBytes { get; internal set; }
    /// <summary>From the SYN to the ACK that completed the handshake, in milliseconds.</summary>
    public double? HandshakeRttMs { get; internal set; }
    /// <summary>Every packet, in frame order — only when the analysis was asked to keep them (the ladder, tests); a streaming run leaves it empty.</summary>
    public List<PacketView> Packets { get; } = [];
    /// <summary>Packets in the conversation.</summary>
    public long PacketCount { get; internal set; }
    /// <summary>The first packet's frame number.</summary>
    public int FirstFrame { get; internal set; }
    /// <summary>The last packet's frame number.</summary>
    public int LastFrame { get; internal set; }
}
