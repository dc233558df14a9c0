namespace Synack.Wire;

/// <summary>IP + TCP together: the unit a link carries and a capture records.</summary>
public static class TcpPacket
{
    /// <summary>
    /// Parses an IP packet carrying TCP and verifies the TCP checksum. On success the payload is
    /// <c>packet.Slice(ip.HeaderLength + tcp.HeaderLength, ip.PayloadLength - tcp.HeaderLength)</c>.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out IpHeader ip, out TcpHeader tcp, out ParseError error, bool verifyChecksum = true)
    {
        tcp = default;
        if (!IpHeader.TryParse(packet, out ip, out error)) return false;
        if (ip.Protocol != InternetChecksum.ProtocolTcp)
        {
            error = ParseError.NotTcp;
            return false;
        }
        var segment = packet.Slice(ip.HeaderLength, ip.PayloadLength);
        if (!TcpHeader.TryParse(segment, out tcp, out error)) return false;
        tcp.Ecn = ip.Ecn;
        tcp.Dscp = ip.Dscp;
        tcp.HopLimit = ip.HopLimit;
        if (verifyChecksum && !InternetChecksum.VerifyTcp(ip.Source, ip.Destination, segment))
        {
            error = ParseError.BadChecksum;
            return false;
        }
        return true;
    }

    /// <summary>The TCP payload of <paramref name="packet"/>, by the lengths in its IP and TCP headers.</summary>
    public static ReadOnlySpan<byte> Payload(ReadOnlySpan<byte> packet, in IpHeader ip, in TcpHeader tcp) =>
        packet.Slice(ip.HeaderLength + tcp.HeaderLength, ip.PayloadLength - tcp.HeaderLength);

    /// <summary>The most bytes one packet can take: IPv6 header + TCP header with options + payload.</summary>
    public static int MaxLength(int payloadLength) => IpHeader.Ipv6Length + TcpHeader.MaxLength + payloadLength;

    /// <summary>Writes IP header, TCP header and payload with both checksums. Returns the packet length, or -1 if it does not fit.</summary>
    /// <param name="partialChecksum">
    /// Checksum offload: the TCP checksum field gets only the pseudo-header's sum, not complemented
    /// (CHECKSUM_PARTIAL), for a device that finishes it — the payload is not read twice.
    /// </param>
    public static int Write(Span<byte> dest, IpAddr source, IpAddr destination, in TcpHeader tcp, TcpOptionLayout layout, ReadOnlySpan<byte> payload, bool partialChecksum = false)
    {
        int ipLen = source.IsV6 ? IpHeader.Ipv6Length : IpHeader.Ipv4MinLength;
        if (dest.Length < ipLen + TcpHeader.MinLength) return -1;
        int tcpLen = TcpHeader.Write(dest[ipLen..], in tcp, layout);
        if (tcpLen < 0 || dest.Length < ipLen + tcpLen + payload.Length) return -1;
        payload.CopyTo(dest[(ipLen + tcpLen)..]);
        var segment = dest.Slice(ipLen, tcpLen + payload.Length);
        if (partialChecksum)
        {
            uint sum = InternetChecksum.PseudoHeader(source, destination, InternetChecksum.ProtocolTcp, segment.Length);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(segment[16..], InternetChecksum.FoldPartial(sum));
        }
        else
        {
            InternetChecksum.FillTcp(source, destination, segment);
        }
        IpHeader.Write(dest, source, destination, InternetChecksum.ProtocolTcp, segment.Length, hopLimit: tcp.HopLimit == 0 ? (byte)64 : tcp.HopLimit, ecn: tcp.Ecn, dscp: tcp.Dscp);
        return ipLen + segment.Length;
    }
}
