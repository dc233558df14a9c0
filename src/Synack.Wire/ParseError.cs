namespace Synack.Wire;

/// <summary>Why a packet was not accepted. Every malformed input maps to one of these; nothing throws.</summary>
public enum ParseError
{
    /// <summary>The packet was read.</summary>
    None = 0,
    /// <summary>Fewer than 20 bytes of TCP header.</summary>
    TcpHeaderTooShort,
    /// <summary>A data offset below 5 words.</summary>
    TcpDataOffsetTooSmall,
    /// <summary>A data offset that points past the end of the packet.</summary>
    TcpDataOffsetPastPacket,
    /// <summary>An option whose length byte is below 2 or past the options.</summary>
    TcpOptionLengthInvalid,
    /// <summary>An option that runs past the header.</summary>
    TcpOptionPastHeader,
    /// <summary>The TCP checksum does not verify.</summary>
    BadChecksum,
    /// <summary>The IP packet is shorter than its header says.</summary>
    IpTruncated,
    /// <summary>Neither IPv4 nor IPv6.</summary>
    IpVersionUnknown,
    /// <summary>An IPv4 IHL below 5 or past the packet.</summary>
    Ipv4HeaderLengthInvalid,
    /// <summary>An IPv4 total length shorter than the header or longer than the packet.</summary>
    Ipv4TotalLengthInvalid,
    /// <summary>The IPv4 header checksum does not verify.</summary>
    Ipv4BadHeaderChecksum,
    /// <summary>An IPv4 fragment (the stack does not reassemble).</summary>
    Ipv4Fragment,
    /// <summary>An IPv6 payload length longer than the packet.</summary>
    Ipv6PayloadLengthInvalid,
    /// <summary>An IPv6 extension header that is cut short or not allowed here.</summary>
    Ipv6ExtensionHeaderInvalid,
    /// <summary>The packet is not TCP.</summary>
    NotTcp,
    /// <summary>The destination buffer is too small for what is to be written.</summary>
    OutputTooSmall,
}

/// <summary>Text for <see cref="ParseError"/>.</summary>
public static class ParseErrorExtensions
{
    /// <summary>A short English description of the error, for logs and messages.</summary>
    public static string Describe(this ParseError e) => e switch
    {
        ParseError.None => "ok",
        ParseError.TcpHeaderTooShort => "TCP header shorter than 20 bytes",
        ParseError.TcpDataOffsetTooSmall => "TCP data offset under 5 words",
        ParseError.TcpDataOffsetPastPacket => "TCP data offset points past the end of the segment",
        ParseError.TcpOptionLengthInvalid => "TCP option length 0 or 1",
        ParseError.TcpOptionPastHeader => "TCP option runs past the end of the header",
        ParseError.BadChecksum => "TCP checksum does not match",
        ParseError.IpTruncated => "IP packet truncated",
        ParseError.IpVersionUnknown => "IP version is neither 4 nor 6",
        ParseError.Ipv4HeaderLengthInvalid => "IPv4 header length under 20 bytes or past the packet",
        ParseError.Ipv4TotalLengthInvalid => "IPv4 total length smaller than the header or larger than the packet",
        ParseError.Ipv4BadHeaderChecksum => "IPv4 header checksum does not match",
        ParseError.Ipv4Fragment => "IPv4 fragment (reassembly is not supported)",
        ParseError.Ipv6PayloadLengthInvalid => "IPv6 payload length larger than the packet",
        ParseError.Ipv6ExtensionHeaderInvalid => "IPv6 extension header truncated or unsupported",
        ParseError.NotTcp => "not a TCP packet",
        ParseError.OutputTooSmall => "output buffer too small",
        _ => e.ToString(),
    };
}
