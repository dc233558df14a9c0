using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>What the IP layer tells TCP about a packet: addresses, protocol and where the payload is.</summary>
public struct IpHeader
{
    /// <summary>The source address.</summary>
    public IpAddr Source;
    /// <summary>The destination address.</summary>
    public IpAddr Destination;
    /// <summary>The upper-layer protocol (IPv4's protocol, IPv6's last next header): 6 for TCP.</summary>
    public byte Protocol;
    /// <summary>IPv4's TTL or IPv6's hop limit.</summary>
    public byte HopLimit;
    /// <summary>The ECN field (the low two bits of IPv4's TOS byte or IPv6's traffic class).</summary>
    public EcnCodepoint Ecn;
    /// <summary>The differentiated services codepoint (the upper six bits of the TOS byte or traffic class).</summary>
    public byte Dscp;
    /// <summary>Bytes before the payload (IPv4 options and IPv6 extension headers included).</summary>
    public int HeaderLength;
    /// <summary>The payload's length by the IP header (link padding excluded).</summary>
    public int PayloadLength;

    /// <summary>An IPv4 header without options.</summary>
    public const int Ipv4MinLength = 20;
    /// <summary>The fixed IPv6 header.</summary>
    public const int Ipv6Length = 40;

    /// <summary>Reads an IPv4 or IPv6 header. Trailing bytes past the IP length (link padding) are ignored.</summary>
    public static bool TryParse(ReadOnlySpan<byte> packet, out IpHeader ip, out ParseError error)
    {
        ip = default;
        if (packet.Length < 1)
        {
            error = ParseError.IpTruncated;
            return false;
        }
        return (packet[0] >> 4) switch
        {
            4 => TryParseV4(packet, out ip, out error),
            6 => TryParseV6(packet, out ip, out error),
            _ => Fail(ParseError.IpVersionUnknown, out error),
        };
    }

    private static bool Fail(ParseError e, out ParseError error)
    {
        error = e;
        return false;
    }

    private static bool TryParseV4(ReadOnlySpan<byte> p, out IpHeader ip, out ParseError error)
    {
        ip = default;
        if (p.Length < Ipv4MinLength) return Fail(ParseError.IpTruncated, out error);
        int ihl = (p[0] & 0x0F) * 4;
        if (ihl < Ipv4MinLength || ihl > p.Length) return Fail(ParseError.Ipv4HeaderLengthInvalid, out error);
        int total = BinaryPrimitives.ReadUInt16BigEndian(p[2..]);
        if (total < ihl) return Fail(ParseError.Ipv4TotalLengthInvalid, out error);
        if (total > p.Length) return Fail(ParseError.IpTruncated, out error);
        if (InternetChecksum.Compute(p[..ihl]) != 0) return Fail(ParseError.Ipv4BadHeaderChecksum, out error);
        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(p[6..]);
        if ((frag & 0x3FFF) != 0) return Fail(ParseError.Ipv4Fragment, out error); // MF set or offset non-zero
        ip.HopLimit = p[8];
        ip.Ecn = (EcnCodepoint)(p[1] & 3);
        ip.Dscp = (byte)(p[1] >> 2);
        ip.Protocol = p[9];
        ip.Source = IpAddr.FromSpan(p.Slice(12, 4));
        ip.Destination = IpAddr.FromSpan(p.Slice(16, 4));
        ip.HeaderLength = ihl;
        ip.PayloadLength = total - ihl;
        error = ParseError.None;
        return true;
    }

    private static bool TryParseV6(ReadOnlySpan<byte> p, out IpHeader ip, out ParseError error)
    {
        ip = default;
        if (p.Length < Ipv6Length) return Fail(ParseError.IpTruncated, out error);
        int payload = BinaryPrimitives.ReadUInt16BigEndian(p[4..]);
        if (Ipv6Length + payload > p.Length) return Fail(ParseError.Ipv6PayloadLengthInvalid, out error);
        byte next = p[6];
        int offset = Ipv6Length;
        int end = Ipv6Length + payload;
        // Skip the extension headers that may precede TCP; a fragment header is not supported.
        while (next is 0 or 43 or 60)
        {
            if (offset + 8 > end) return Fail(ParseError.Ipv6ExtensionHeaderInvalid, out error);
            int extLen = (p[offset + 1] + 1) * 8;
            if (offset + extLen > end) return Fail(ParseError.Ipv6ExtensionHeaderInvalid, out error);
            next = p[offset];
            offset += extLen;
        }
        if (next == 44) return Fail(ParseError.Ipv6ExtensionHeaderInvalid, out error);
        ip.HopLimit = p[7];
        ip.Ecn = (EcnCodepoint)((p[1] >> 4) & 3);
        ip.Dscp = (byte)((((p[0] & 0x0F) << 4) | (p[1] >> 4)) >> 2);
        ip.Protocol = next;
        ip.Source = IpAddr.FromSpan(p.Slice(8, 16));
        ip.Destination = IpAddr.FromSpan(p.Slice(24, 16));
        ip.HeaderLength = offset;
        ip.PayloadLength = end - offset;
        error = ParseError.None;
        return true;
    }

    /// <summary>Writes a minimal IPv4 (20 bytes, DF set) or IPv6 (40 bytes) header. Returns its length.</summary>
    public static int Write(Span<byte> d, IpAddr source, IpAddr destination, byte protocol, int payloadLength, byte hopLimit = 64, ushort id = 0, EcnCodepoint ecn = EcnCodepoint.NotEct, byte dscp = 0)
    {
        if (source.IsV6 != destination.IsV6) throw new ArgumentException("source and destination differ in IP version");
        byte trafficClass = (byte)((dscp << 2) | (byte)ecn);
        if (source.IsV6)
        {
            d[0] = (byte)(0x60 | (trafficClass >> 4)); d[1] = (byte)(trafficClass << 4); d[2] = 0; d[3] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(d[4..], (ushort)payloadLength);
            d[6] = protocol;
            d[7] = hopLimit;
            source.WriteTo(d[8..]);
            destination.WriteTo(d[24..]);
            return Ipv6Length;
        }
        d[0] = 0x45; d[1] = trafficClass;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], (ushort)(Ipv4MinLength + payloadLength));
        BinaryPrimitives.WriteUInt16BigEndian(d[4..], id);
        BinaryPrimitives.WriteUInt16BigEndian(d[6..], 0x4000); // DF: we do path-MTU-sized segments, never fragments
        d[8] = hopLimit;
        d[9] = protocol;
        d[10] = 0; d[11] = 0;
        source.WriteTo(d[12..]);
        destination.WriteTo(d[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(d[10..], InternetChecksum.Compute(d[..Ipv4MinLength]));
        return Ipv4MinLength;
    }
}
