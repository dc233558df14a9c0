namespace Synack.Wire;

/// <summary>Why a packet was not accepted. Every malformed input maps to one of these; nothing throws.</summary>
public enum ParseError
{
    None = 0,
    TcpHeaderTooShort,
    TcpDataOffsetTooSmall,
    TcpDataOffsetPastPacket,
    TcpOptionLengthInvalid,
    TcpOptionPastHeader,
    BadChecksum,
    IpTruncated,
    IpVersionUnknown,
    Ipv4HeaderLengthInvalid,
    Ipv4TotalLengthInvalid,
    Ipv4BadHeaderChecksum,
    Ipv4Fragment,
    Ipv6PayloadLengthInvalid,
    Ipv6ExtensionHeaderInvalid,
    NotTcp,
    OutputTooSmall,
}

public static class ParseErrorExtensions
{
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
