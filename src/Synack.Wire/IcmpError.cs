using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>
/// An ICMPv4 or ICMPv6 error message carrying the start of one of our TCP segments: the quoted
/// 4-tuple and sequence number, and what kind of error it is. Parsing never throws.
/// </summary>
public readonly record struct IcmpError(IcmpErrorKind Kind, byte Type, byte Code, FourTuple Quoted, SeqNum QuotedSeq, ushort Mtu)
{
    /// <summary>
    /// Reads an ICMP error that quotes a TCP segment sent by us (the quoted source is the local end).
    /// <paramref name="icmp"/> is the IP payload; false when it is not such an error.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> icmp, bool v6, out IcmpError error)
    {
        error = default;
        if (icmp.Length < 8) return false;
        byte type = icmp[0], code = icmp[1];
        var kind = v6 ? KindV6(type, code) : KindV4(type, code);
        if (kind == IcmpErrorKind.Other) return false;
        ushort mtu = v6 ? (ushort)Math.Min(BinaryPrimitives.ReadUInt32BigEndian(icmp[4..]), ushort.MaxValue) : BinaryPrimitives.ReadUInt16BigEndian(icmp[6..]);
        var quoted = icmp[8..];
        // The quoted IP header, then at least the first 8 bytes of TCP: ports and sequence number.
        int ipLen;
        IpAddr src, dst;
        if (v6)
        {
            if (quoted.Length < IpHeader.Ipv6Length + 8 || quoted[6] != InternetChecksum.ProtocolTcp) return false;
            ipLen = IpHeader.Ipv6Length;
            src = IpAddr.FromSpan(quoted.Slice(8, 16));
            dst = IpAddr.FromSpan(quoted.Slice(24, 16));
        }
        else
        {
            if (quoted.Length < IpHeader.Ipv4MinLength + 8 || quoted[9] != InternetChecksum.ProtocolTcp) return false;
            ipLen = (quoted[0] & 0x0F) * 4;
            if (ipLen < IpHeader.Ipv4MinLength || quoted.Length < ipLen + 8) return false;
            src = IpAddr.FromSpan(quoted.Slice(12, 4));
            dst = IpAddr.FromSpan(quoted.Slice(16, 4));
        }
        var tcp = quoted[ipLen..];
        var tuple = new FourTuple(src, BinaryPrimitives.ReadUInt16BigEndian(tcp), dst, BinaryPrimitives.ReadUInt16BigEndian(tcp[2..]));
        error = new IcmpError(kind, type, code, tuple, new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(tcp[4..])), mtu);
        return true;
    }

    private static IcmpErrorKind KindV4(byte type, byte code) => type switch
    {
        3 => code switch
        {
            2 or 3 or 9 or 10 or 13 => IcmpErrorKind.Refused, // protocol, port; net, host, communication prohibited
            4 => IcmpErrorKind.PacketTooBig,
            _ => IcmpErrorKind.Soft,
        },
        11 => code == 0 ? IcmpErrorKind.HostUnreachable : IcmpErrorKind.Soft,
        12 => IcmpErrorKind.Soft,
        _ => IcmpErrorKind.Other,
    };

    private static IcmpErrorKind KindV6(byte type, byte code) => type switch
    {
        1 => code is 1 or 4 ? IcmpErrorKind.Refused : IcmpErrorKind.Soft, // administratively prohibited, port unreachable
        2 => IcmpErrorKind.PacketTooBig,
        3 => code == 0 ? IcmpErrorKind.HostUnreachable : IcmpErrorKind.Soft,
        4 => code == 1 ? IcmpErrorKind.Refused : IcmpErrorKind.Soft, // unrecognized next header: no TCP there
        _ => IcmpErrorKind.Other,
    };
}
