using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>A TCP header as values (RFC 9293 section 3.1). The payload travels beside it.</summary>
public struct TcpHeader
{
    /// <summary>A header without options.</summary>
    public const int MinLength = 20;
    /// <summary>A header with 40 bytes of options.</summary>
    public const int MaxLength = 60;

    /// <summary>The sender's port.</summary>
    public ushort SourcePort;
    /// <summary>The receiver's port.</summary>
    public ushort DestinationPort;
    /// <summary>The sequence number of the first byte (or of the SYN or FIN).</summary>
    public SeqNum Seq;
    /// <summary>The next sequence number the sender expects, when <see cref="TcpFlags.Ack"/> is set.</summary>
    public SeqNum Ack;
    /// <summary>The control bits.</summary>
    public TcpFlags Flags;
    /// <summary>The raw 16-bit window field, before any window scaling.</summary>
    public ushort Window;
    /// <summary>The checksum as read; computed when written.</summary>
    public ushort Checksum;
    /// <summary>The urgent pointer, meaningful with <see cref="TcpFlags.Urg"/>.</summary>
    public ushort UrgentPointer;
    /// <summary>Header length in bytes (data offset * 4) as read; computed when written.</summary>
    public int HeaderLength;
    /// <summary>The options the header carries, parsed.</summary>
    public TcpOptions Options;
    /// <summary>
    /// The ECN field of the IP header that carries this segment. Not a TCP header field, but TCP
    /// decides it (RFC 3168): read from the packet on input, written into the IP header on output.
    /// </summary>
    public EcnCodepoint Ecn;
    /// <summary>Likewise the IP header's DSCP (IP_TOS / IPV6_TCLASS of the socket) and hop limit (0: the default, 64).</summary>
    public byte Dscp;
    /// <summary>The IP hop limit (TTL) to send with; 0 means the default, 64.</summary>
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
        var reader = new TcpOptionReader(opts);
        while (reader.TryNext(out var kind, out int len, out var body))
        {
            if (kind == TcpOptionKind.EndOfList) break;
            if (kind == TcpOptionKind.Nop) continue;
            // A known kind with the wrong length is skipped like an unknown one, as Linux does:
            // dropping the whole segment would let a middlebox's odd option kill a connection.
            if (!TcpOptionCodec.HasValidLength(kind, len))
            {
                o.UnknownCount++;
                continue;
            }
            switch (kind)
            {
                case TcpOptionKind.Mss:
                    o.HasMss = true;
                    o.Mss = TcpOptionCodec.ReadMss(body);
                    break;
                case TcpOptionKind.WindowScale:
                    o.HasWindowScale = true;
                    o.WindowScale = body[0];
                    break;
                case TcpOptionKind.SackPermitted:
                    o.SackPermitted = true;
                    break;
                case TcpOptionKind.Sack:
                    for (int b = 0; b < body.Length / TcpOptionCodec.SackBlockLength; b++) o.AddSackBlock(TcpOptionCodec.ReadSackBlock(body, b));
                    break;
                case TcpOptionKind.Timestamps:
                    o.HasTimestamps = true;
                    (o.TsVal, o.TsEcr) = TcpOptionCodec.ReadTimestamps(body);
                    break;
                default:
                    o.UnknownCount++;
                    break;
            }
        }
        error = reader.Error;
        return error == ParseError.None;
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
                    n += TcpOptionCodec.WriteMss(d[n..], o.Mss);
                    break;
                case TcpOptionKind.WindowScale:
                    n += TcpOptionCodec.WriteWindowScale(d[n..], o.WindowScale);
                    break;
                case TcpOptionKind.SackPermitted:
                    n += TcpOptionCodec.WriteSackPermitted(d[n..]);
                    break;
                case TcpOptionKind.Timestamps:
                    n += TcpOptionCodec.WriteTimestamps(d[n..], o.TsVal, o.TsEcr);
                    break;
                case TcpOptionKind.Sack:
                    n += WriteSack(d[n..], in o, Math.Min(o.SackBlockCount, (d.Length - n - TcpOptionCodec.SackHeaderLength) / TcpOptionCodec.SackBlockLength));
                    break;
            }
        }
        return n;
    }

    /// <summary>Linux's tcp_options_write(): every option on a 4-byte boundary, padded with NOPs as Linux pads it.</summary>
    private static int WriteLinuxOptions(Span<byte> d, in TcpOptions o)
    {
        int n = 0;
        if (o.HasMss) n += TcpOptionCodec.WriteMss(d, o.Mss);
        if (o.HasTimestamps)
        {
            // sackOK rides in the two bytes that would pad the timestamps.
            if (o.SackPermitted) n += TcpOptionCodec.WriteSackPermitted(d[n..]);
            else n += WriteNops(d[n..], 2);
            n += TcpOptionCodec.WriteTimestamps(d[n..], o.TsVal, o.TsEcr);
        }
        if (o.SackPermitted && !o.HasTimestamps)
        {
            n += WriteNops(d[n..], 2);
            n += TcpOptionCodec.WriteSackPermitted(d[n..]);
        }
        if (o.HasWindowScale)
        {
            n += WriteNops(d[n..], 1);
            n += TcpOptionCodec.WriteWindowScale(d[n..], o.WindowScale);
        }
        int blocks = Math.Min(o.SackBlockCount, (d.Length - n - 4) / TcpOptionCodec.SackBlockLength);
        if (blocks > 0)
        {
            n += WriteNops(d[n..], 2);
            n += WriteSack(d[n..], in o, blocks);
        }
        return n;
    }

    private static int WriteNops(Span<byte> d, int count)
    {
        d[..count].Fill((byte)TcpOptionKind.Nop);
        return count;
    }

    private static int WriteSack(Span<byte> d, in TcpOptions o, int blocks)
    {
        int n = TcpOptionCodec.WriteSackHeader(d, blocks);
        for (int b = 0; b < blocks; b++) n += TcpOptionCodec.WriteSackBlock(d[n..], o.SackBlocks[b]);
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
