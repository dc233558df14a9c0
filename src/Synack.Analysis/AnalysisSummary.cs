namespace Synack.Analysis;

/// <summary>What a capture held and what the analysis did with it: nothing skipped goes unsaid.</summary>
public sealed class AnalysisSummary
{
    /// <summary>The file's format: "pcap", "pcapng" or "unknown".</summary>
    public string Format { get; internal set; } = "unknown";
    /// <summary>"gzip" or "zstd" when the file was compressed, else null.</summary>
    public string? Compression { get; internal set; }
    /// <summary>Frames read.</summary>
    public long Frames { get; internal set; }
    /// <summary>Frames that carry TCP.</summary>
    public long TcpFrames { get; internal set; }
    /// <summary>IP frames that carry no TCP (UDP, ICMP, ...).</summary>
    public long OtherIpFrames { get; internal set; }
    /// <summary>Link frames that carry no IP (ARP, STP, LLDP, ...).</summary>
    public long NonIpFrames { get; internal set; }
    /// <summary>Frames holding an IP fragment of a datagram completed by a later frame (or never completed).</summary>
    public long FragmentFrames { get; internal set; }
    /// <summary>Datagrams whose fragments never all arrived, or that broke the reassembly bounds.</summary>
    public long FragmentsAbandoned { get; internal set; }
    /// <summary>Frames not read, by what they were (a link type, an encapsulation) — never silent.</summary>
    public SortedDictionary<string, long> Unsupported { get; } = new(StringComparer.Ordinal);
    /// <summary>Frames whose headers were cut short or inconsistent, by what was wrong.</summary>
    public SortedDictionary<string, long> Malformed { get; } = new(StringComparer.Ordinal);
    /// <summary>TCP frames whose IPv4 header checksum is wrong (offload, mostly): analyzed all the same.</summary>
    public long IpChecksumBad { get; internal set; }
    /// <summary>TCP checksums found wrong, when verification was asked for (null otherwise).</summary>
    public long? TcpChecksumBad { get; internal set; }
    /// <summary>The conversations, in the order their first packet appeared.</summary>
    public IReadOnlyList<Conversation> Conversations { get; internal set; } = [];
    /// <summary>Why reading stopped before the end of the file (with its byte offset), or null.</summary>
    public string? Error { get; internal set; }
}
