using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>
/// The bytes of each TCP option, written and read in one place. <see cref="TcpHeader"/> uses it with
/// its layouts; a packetdrill script's injected packets, which may put options in any order, use it
/// too. Each writer returns how many bytes it wrote.
/// </summary>
public static class TcpOptionCodec
{
    /// <summary>Bytes of the MSS option.</summary>
    public const int MssLength = 4;
    /// <summary>Bytes of the window scale option.</summary>
    public const int WindowScaleLength = 3;
    /// <summary>Bytes of the SACK-permitted option.</summary>
    public const int SackPermittedLength = 2;
    /// <summary>Bytes of the timestamps option.</summary>
    public const int TimestampsLength = 10;
    /// <summary>A SACK option's kind and length, before its blocks of 8 bytes each.</summary>
    public const int SackHeaderLength = 2;
    /// <summary>Bytes of one SACK block (the option adds 2 for kind and length).</summary>
    public const int SackBlockLength = 8;

    /// <summary>Writes the MSS option; returns the bytes written.</summary>
    public static int WriteMss(Span<byte> d, ushort mss)
    {
        d[0] = (byte)TcpOptionKind.Mss;
        d[1] = MssLength;
        BinaryPrimitives.WriteUInt16BigEndian(d[2..], mss);
        return MssLength;
    }

    /// <summary>Writes the window scale option; returns the bytes written.</summary>
    public static int WriteWindowScale(Span<byte> d, byte shift)
    {
        d[0] = (byte)TcpOptionKind.WindowScale;
        d[1] = WindowScaleLength;
        d[2] = shift;
        return WindowScaleLength;
    }

    /// <summary>Writes the SACK-permitted option; returns the bytes written.</summary>
    public static int WriteSackPermitted(Span<byte> d)
    {
        d[0] = (byte)TcpOptionKind.SackPermitted;
        d[1] = SackPermittedLength;
        return SackPermittedLength;
    }

    /// <summary>Writes the timestamps option; returns the bytes written.</summary>
    public static int WriteTimestamps(Span<byte> d, uint tsVal, uint tsEcr)
    {
        d[0] = (byte)TcpOptionKind.Timestamps;
        d[1] = TimestampsLength;
        BinaryPrimitives.WriteUInt32BigEndian(d[2..], tsVal);
        BinaryPrimitives.WriteUInt32BigEndian(d[6..], tsEcr);
        return TimestampsLength;
    }

    /// <summary>A SACK option's kind and length for <paramref name="blocks"/> blocks; the blocks follow with <see cref="WriteSackBlock"/>.</summary>
    public static int WriteSackHeader(Span<byte> d, int blocks)
    {
        d[0] = (byte)TcpOptionKind.Sack;
        d[1] = (byte)(SackHeaderLength + SackBlockLength * blocks);
        return SackHeaderLength;
    }

    /// <summary>Writes one SACK block's two edges; returns the bytes written.</summary>
    public static int WriteSackBlock(Span<byte> d, SackBlock block)
    {
        BinaryPrimitives.WriteUInt32BigEndian(d, block.Left.Value);
        BinaryPrimitives.WriteUInt32BigEndian(d[4..], block.Right.Value);
        return SackBlockLength;
    }

    /// <summary>The MSS from an option's body (the bytes after kind and length).</summary>
    public static ushort ReadMss(ReadOnlySpan<byte> body) => BinaryPrimitives.ReadUInt16BigEndian(body);

    /// <summary>TSval and TSecr from an option's body.</summary>
    public static (uint TsVal, uint TsEcr) ReadTimestamps(ReadOnlySpan<byte> body) =>
        (BinaryPrimitives.ReadUInt32BigEndian(body), BinaryPrimitives.ReadUInt32BigEndian(body[4..]));

    /// <summary>Block <paramref name="index"/> of a SACK option's body.</summary>
    public static SackBlock ReadSackBlock(ReadOnlySpan<byte> body, int index) => new(
        new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(body[(SackBlockLength * index)..])),
        new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(body[(SackBlockLength * index + 4)..])));

    /// <summary>Whether a known kind has the length its RFC gives it (a wrong one is skipped like an unknown option).</summary>
    public static bool HasValidLength(TcpOptionKind kind, int length) => kind switch
    {
        TcpOptionKind.Mss => length == MssLength,
        TcpOptionKind.WindowScale => length == WindowScaleLength,
        TcpOptionKind.SackPermitted => length == SackPermittedLength,
        TcpOptionKind.Timestamps => length == TimestampsLength,
        TcpOptionKind.Sack => length >= SackHeaderLength + SackBlockLength && (length - SackHeaderLength) % SackBlockLength == 0,
        _ => true,
    };
}

/// <summary>
/// Walks the options of a TCP header one by one: NOP and EOL as one byte each, every other option as
/// kind, length and body. It stops at the end, or at the first option whose length is impossible.
/// </summary>
public ref struct TcpOptionReader(ReadOnlySpan<byte> options)
{
    private readonly ReadOnlySpan<byte> _options = options;
    private int _at;

    /// <summary>Where the next option starts (after a malformed one stopped the walk: where that one starts).</summary>
    public readonly int Offset => _at;

    /// <summary>Why the walk stopped early: <see cref="ParseError.None"/> when it reached the end.</summary>
    public ParseError Error { get; private set; }

    /// <summary>
    /// The next option: its kind, its whole length on the wire (1 for NOP and EOL) and its body (the
    /// bytes after kind and length). False at the end or, with <see cref="Error"/> set, at a malformed option.
    /// </summary>
    public bool TryNext(out TcpOptionKind kind, out int length, out ReadOnlySpan<byte> body)
    {
        body = default;
        length = 0;
        kind = default;
        if (_at >= _options.Length || Error != ParseError.None) return false;
        kind = (TcpOptionKind)_options[_at];
        if (kind is TcpOptionKind.EndOfList or TcpOptionKind.Nop)
        {
            length = 1;
            _at++;
            return true;
        }
        if (_at + 1 >= _options.Length)
        {
            Error = ParseError.TcpOptionPastHeader;
            return false;
        }
        length = _options[_at + 1];
        if (length < 2)
        {
            Error = ParseError.TcpOptionLengthInvalid;
            return false;
        }
        if (_at + length > _options.Length)
        {
            Error = ParseError.TcpOptionPastHeader;
            return false;
        }
        body = _options.Slice(_at + 2, length - 2);
        _at += length;
        return true;
    }
}
