using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>The Internet checksum (RFC 1071) and the TCP pseudo-headers for IPv4 and IPv6.</summary>
public static class InternetChecksum
{
    /// <summary>The protocol number of TCP in the pseudo-header.</summary>
    public const byte ProtocolTcp = 6;

    /// <summary>Adds <paramref name="data"/> to a running 32-bit sum of 16-bit big-endian words.</summary>
    public static uint Add(uint sum, ReadOnlySpan<byte> data)
    {
        ulong acc = sum;
        int i = 0;
        for (; i + 8 <= data.Length; i += 8)
        {
            ulong v = BinaryPrimitives.ReadUInt64BigEndian(data[i..]);
            acc += (v >> 48) + ((v >> 32) & 0xFFFF) + ((v >> 16) & 0xFFFF) + (v & 0xFFFF);
        }
        for (; i + 2 <= data.Length; i += 2)
        {
            acc += BinaryPrimitives.ReadUInt16BigEndian(data[i..]);
        }
        if (i < data.Length)
        {
            acc += (uint)(data[i] << 8);
        }
        while ((acc >> 32) != 0) acc = (acc & 0xFFFFFFFF) + (acc >> 32);
        return (uint)acc;
    }

    /// <summary>Folds a 32-bit one's-complement sum to 16 bits and complements it: the checksum field's value.</summary>
    public static ushort Fold(uint sum)
    {
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)~sum;
    }

    /// <summary>The Internet checksum (RFC 1071) of <paramref name="data"/>.</summary>
    public static ushort Compute(ReadOnlySpan<byte> data) => Fold(Add(0, data));

    /// <summary>
    /// Folds without complementing: the partial sum a device with checksum offload completes
    /// (CHECKSUM_PARTIAL: the pseudo-header's sum in the checksum field, the device adds the rest).
    /// </summary>
    public static ushort FoldPartial(uint sum)
    {
        while ((sum >> 16) != 0) sum = (sum & 0xFFFF) + (sum >> 16);
        return (ushort)sum;
    }

    /// <summary>The sum of the pseudo-header: RFC 9293 3.1 for IPv4, RFC 8200 8.1 for IPv6.</summary>
    public static uint PseudoHeader(IpAddr source, IpAddr destination, byte protocol, int length)
    {
        Span<byte> b = stackalloc byte[40];
        if (source.IsV6)
        {
            source.WriteTo(b);
            destination.WriteTo(b[16..]);
            BinaryPrimitives.WriteUInt32BigEndian(b[32..], (uint)length);
            b[36] = 0; b[37] = 0; b[38] = 0; b[39] = protocol;
            return Add(0, b);
        }
        source.WriteTo(b);
        destination.WriteTo(b[4..]);
        b[8] = 0;
        b[9] = protocol;
        BinaryPrimitives.WriteUInt16BigEndian(b[10..], (ushort)length);
        return Add(0, b[..12]);
    }

    /// <summary>The TCP checksum of a whole segment (header with checksum field as it is, plus payload).</summary>
    public static ushort Tcp(IpAddr source, IpAddr destination, ReadOnlySpan<byte> segment) =>
        Fold(Add(PseudoHeader(source, destination, ProtocolTcp, segment.Length), segment));

    /// <summary>Writes the TCP checksum into bytes 16-17 of <paramref name="segment"/>.</summary>
    public static void FillTcp(IpAddr source, IpAddr destination, Span<byte> segment)
    {
        segment[16] = 0;
        segment[17] = 0;
        BinaryPrimitives.WriteUInt16BigEndian(segment[16..], Tcp(source, destination, segment));
    }

    /// <summary>A received segment is good when its sum, checksum field included, folds to zero.</summary>
    public static bool VerifyTcp(IpAddr source, IpAddr destination, ReadOnlySpan<byte> segment) =>
        Tcp(source, destination, segment) == 0;
}
