namespace Synack.Analysis;

/// <summary>How to analyze a capture.</summary>
public sealed record AnalysisOptions
{
    /// <summary>Verify TCP checksums and mark the bad ones, as Wireshark's tcp.check_checksum:TRUE (off by default, as in Wireshark: captures on the sending host carry checksums the NIC fills in later).</summary>
    public bool VerifyChecksums { get; init; }
    /// <summary>Keep every packet in <see cref="Conversation.Packets"/> (for the ladder and tests); a streaming run keeps none.</summary>
    public bool KeepPackets { get; init; }
    /// <summary>Only this conversation (tcp.stream) is written and kept.</summary>
    public int? Stream { get; init; }
}
