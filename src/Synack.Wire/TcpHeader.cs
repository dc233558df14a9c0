using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>A TCP header as values (RFC 9293 section 3.1). The payload travels beside it.</summary>
public struct TcpHeader
{
    public const int MinLength = 20;
    public const int MaxLength = 60;

    public ushort SourcePort;
    public ushort DestinationPort;
    public SeqNum Seq;
    public SeqNum Ack;
    public TcpFlags Flags;
    /// <summary>The raw 16-bit window field, before any window scaling.</summary>
    public ushort Window;
    public ushort Checksum;
    public ushort UrgentPointer;
    /// <summary>Header length in bytes (data offset * 4) as read; computed when written.</summary>
    public int HeaderLength;
    public TcpOptions Options;
    /// <summary>
    /// The ECN field of the IP header that carries this segment. Not a TCP header field, but TCP
    /// decides it (RFC 3168): read from the packet on input, written into the IP header on output.
    /// </summary>
    public EcnCodepoint Ecn;
    /// <summary>Likewise the IP header's DSCP (IP_TOS / IPV6_TCLASS of the socket) and hop limit (0: the default, 64).</summary>
    public byte Dscp;
    public byte HopLimit;

    /// <summary>
    /// Reads a TCP header from the start of <paramref name="segment"/>. The payload is
    /// <c>segment[header.HeaderLength..]</c>. Never throws: malformed input gives a reason.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> segment, out TcpHeader header, out ParseError error)
    {
        header = default;
        if (segment.Length < MinLength)
        {
            error = ParseError.TcpHeaderTooShort;
            return false;
        }
        int dataOffset = segment[12] >> 4;
        if (dataOffset < 5)
        {
            error = ParseError.TcpDataOffsetTooSmall;
            return false;
        }
        int headerLength = dataOffset * 4;
        if (headerLength > segment.Length)
        {
            error = ParseError.TcpDataOffsetPastPacket;
            return false;
        }
        header.SourcePort = BinaryPrimitives.ReadUInt16BigEndian(segment);
        header.DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(segment[2..]);
        header.Seq = new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(segment[4..]));
        header.Ack = new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(segment[8..]));
        header.Flags = (TcpFlags)segment[13];
        header.Window = BinaryPrimitives.ReadUInt16BigEndian(segment[14..]);
        header.Checksum = BinaryPrimitives.ReadUInt16BigEndian(segment[16..]);
        header.UrgentPointer = BinaryPrimitives.ReadUInt16BigEndian(segment[18..]);
        header.HeaderLength = headerLength;
        return TryParseOptions(segment[MinLength..headerLength], ref header.Options, out error);
    }

    private static bool TryParseOptions(ReadOnlySpan<byte> opts, ref TcpOptions o, out ParseError error)
    {
        int i = 0;
        while (i < opts.Length)
        {
            var kind = (TcpOptionKind)opts[i];
            if (kind == TcpOptionKind.EndOfList) break;
            if (kind == TcpOptionKind.Nop)
            {
                i++;
                continue;
            }
            if (i + 1 >= opts.Length)
            {
                error = ParseError.TcpOptionPastHeader;
                return false;
            }
            int len = opts[i + 1];
            if (len < 2)
            {
                error = ParseError.TcpOptionLengthInvalid;
                return false;
            }
            if (i + len > opts.Length)
            {
                error = ParseError.TcpOptionPastHeader;
                return false;
            }
            var body = opts.Slice(i + 2, len - 2);
            // A known kind with the wrong length is skipped like an unknown one, as Linux does:
            // dropping the whole segment would let a middlebox's odd option kill a connection.
            switch (kind)
            {
                case TcpOptionKind.Mss when len == 4:
                    o.HasMss = true;
                    o.Mss = BinaryPrimitives.ReadUInt16BigEndian(body);
                    break;
                case TcpOptionKind.WindowScale when len == 3:
                    o.HasWindowScale = true;
                    o.WindowScale = body[0];
                    break;
                case TcpOptionKind.SackPermitted when len == 2:
                    o.SackPermitted = true;
                    break;
                case TcpOptionKind.Sack when len >= 10 && (len - 2) % 8 == 0:
                    for (int b = 0; b + 8 <= body.Length; b += 8)
                    {
                        o.AddSackBlock(new SackBlock(
                            new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(body[b..])),
                            new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(body[(b + 4)..]))));
                    }
                    break;
                case TcpOptionKind.Timestamps when len == 10:
                    o.HasTimestamps = true;
                    o.TsVal = BinaryPrimitives.ReadUInt32BigEndian(body);
                    o.TsEcr = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
                    break;
                default:
                    o.UnknownCount++;
                    break;
            }
            i += len;
        }
        error = ParseError.None;
        return true;
    }

    /// <summary>
    /// Writes the header (checksum left as set in <see cref="Checksum"/>, usually 0, to be filled
    /// by <see cref="InternetChecksum"/>). Options are written in <paramref name="layout"/>'s order;
    /// SACK blocks that do not fit in 40 bytes are left out. Returns the header length.
    /// </summary>
    public static int Write(Span<byte> dest, in TcpHeader h, TcpOptionLayout layout)
    {
        Span<byte> opt = stackalloc byte[TcpOptions.MaxLength];
        int optLen = WriteOptions(opt, in h.Options, layout);
        int headerLength = MinLength + ((optLen + 3) & ~3);
        if (dest.Length < headerLength) return -1;
        BinaryPrimitives.WriteUInt16BigEndian(dest, h.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(dest[2..], h.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(dest[4..], h.Seq.Value);
        BinaryPrimitives.WriteUInt32BigEndian(dest[8..], h.Ack.Value);
        dest[12] = (byte)((headerLength / 4) << 4);
        dest[13] = (byte)h.Flags;
        BinaryPrimitives.WriteUInt16BigEndian(dest[14..], h.Window);
        BinaryPrimitives.WriteUInt16BigEndian(dest[16..], h.Checksum);
        BinaryPrimitives.WriteUInt16BigEndian(dest[18..], h.UrgentPointer);
        opt[..optLen].CopyTo(dest[MinLength..]);
        dest[(MinLength + optLen)..headerLength].Clear(); // EOL padding
        return headerLength;
    }

    /// <summary>The length in bytes the options take on the wire, before padding.</summary>
    public static int OptionsLength(in TcpOptions o, TcpOptionLayout layout)
    {
        Span<byte> opt = stackalloc byte[TcpOptions.MaxLength];
        return WriteOptions(opt, in o, layout);
    }

    private static int WriteOptions(Span<byte> d, in TcpOptions o, TcpOptionLayout layout)
    {
        if (layout.LinuxPadding) return WriteLinuxOptions(d, in o);
        var kinds = layout.Kinds;
        int n = 0;
        for (int k = 0; k < kinds.Length; k++)
        {
            var kind = kinds[k];
            if (kind == TcpOptionKind.Nop)
            {
                // A NOP belongs to the option after it: it pads that one to alignment.
                int next = k + 1;
                while (next < kinds.Length && kinds[next] == TcpOptionKind.Nop) next++;
                if (next == kinds.Length || IsPresent(in o, kinds[next], d.Length - n - (next - k)))
                {
                    if (n < d.Length) d[n++] = (byte)TcpOptionKind.Nop;
                }
                continue;
            }
            if (!IsPresent(in o, kind, d.Length - n)) continue;
            if (layout.BsdAlignment)
            {
                while (n < d.Length && !BsdAligned(kind, n)) d[n++] = (byte)TcpOptionKind.Nop;
                if (!IsPresent(in o, kind, d.Length - n)) continue;
            }
            switch (kind)
            {
                case TcpOptionKind.Mss:
                    d[n] = 2; d[n + 1] = 4;
                    BinaryPrimitives.WriteUInt16BigEndian(d[(n + 2)..], o.Mss);
                    n += 4;
                    break;
                case TcpOptionKind.WindowScale:
                    d[n] = 3; d[n + 1] = 3; d[n + 2] = o.WindowScale;
                    n += 3;
                    break;
                case TcpOptionKind.SackPermitted:
                    d[n] = 4; d[n + 1] = 2;
                    n += 2;
                    break;
                case TcpOptionKind.Timestamps:
                    d[n] = 8; d[n + 1] = 10;
                    BinaryPrimitives.WriteUInt32BigEndian(d[(n + 2)..], o.TsVal);
                    BinaryPrimitives.WriteUInt32BigEndian(d[(n + 6)..], o.TsEcr);
                    n += 10;
                    break;
                case TcpOptionKind.Sack:
                    int blocks = Math.Min(o.SackBlockCount, (d.Length - n - 2) / 8);
                    d[n] = 5; d[n + 1] = (byte)(2 + 8 * blocks);
                    for (int b = 0; b < blocks; b++)
                    {
                        BinaryPrimitives.WriteUInt32BigEndian(d[(n + 2 + 8 * b)..], o.SackBlocks[b].Left.Value);
                        BinaryPrimitives.WriteUInt32BigEndian(d[(n + 6 + 8 * b)..], o.SackBlocks[b].Right.Value);
                    }
                    n += 2 + 8 * blocks;
                    break;
            }
        }
        return n;
    }

    /// <summary>Linux's tcp_options_write(): every option on a 4-byte boundary, padded with NOPs as Linux pads it.</summary>
    private static int WriteLinuxOptions(Span<byte> d, in TcpOptions o)
    {
        int n = 0;
        if (o.HasMss)
        {
            d[0] = 2; d[1] = 4;
            BinaryPrimitives.WriteUInt16BigEndian(d[2..], o.Mss);
            n = 4;
        }
        if (o.HasTimestamps)
        {
            if (o.SackPermitted)
            {
                d[n] = 4; d[n + 1] = 2;
            }
            else
            {
                d[n] = d[n + 1] = (byte)TcpOptionKind.Nop;
            }
            d[n + 2] = 8; d[n + 3] = 10;
            BinaryPrimitives.WriteUInt32BigEndian(d[(n + 4)..], o.TsVal);
            BinaryPrimitives.WriteUInt32BigEndian(d[(n + 8)..], o.TsEcr);
            n += 12;
        }
        if (o.SackPermitted && !o.HasTimestamps)
        {
            d[n] = d[n + 1] = (byte)TcpOptionKind.Nop;
            d[n + 2] = 4; d[n + 3] = 2;
            n += 4;
        }
        if (o.HasWindowScale)
        {
            d[n] = (byte)TcpOptionKind.Nop;
            d[n + 1] = 3; d[n + 2] = 3; d[n + 3] = o.WindowScale;
            n += 4;
        }
        int blocks = Math.Min(o.SackBlockCount, (d.Length - n - 4) / 8);
        if (blocks > 0)
        {
            d[n] = d[n + 1] = (byte)TcpOptionKind.Nop;
            d[n + 2] = 5; d[n + 3] = (byte)(2 + 8 * blocks);
            for (int b = 0; b < blocks; b++)
            {
                BinaryPrimitives.WriteUInt32BigEndian(d[(n + 4 + 8 * b)..], o.SackBlocks[b].Left.Value);
                BinaryPrimitives.WriteUInt32BigEndian(d[(n + 8 + 8 * b)..], o.SackBlocks[b].Right.Value);
            }
            n += 4 + 8 * blocks;
        }
        return n;
    }

    private static bool BsdAligned(TcpOptionKind kind, int offset) => kind switch
    {
        TcpOptionKind.Mss => offset % 4 == 0,
        TcpOptionKind.WindowScale => offset % 2 == 1,
        TcpOptionKind.SackPermitted => offset % 2 == 0,
        TcpOptionKind.Timestamps or TcpOptionKind.Sack => offset % 4 == 2,
        _ => true,
    };

    private static bool IsPresent(in TcpOptions o, TcpOptionKind kind, int room) => kind switch
    {
        TcpOptionKind.Mss => o.HasMss && room >= 4,
        TcpOptionKind.WindowScale => o.HasWindowScale && room >= 3,
        TcpOptionKind.SackPermitted => o.SackPermitted && room >= 2,
        TcpOptionKind.Timestamps => o.HasTimestamps && room >= 10,
        TcpOptionKind.Sack => o.SackBlockCount > 0 && room >= 10,
        _ => false,
    };
}
