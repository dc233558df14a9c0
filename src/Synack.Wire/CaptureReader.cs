using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.IO.Compression;
using System.Text;

namespace Synack.Wire;

/// <summary>
/// Reads pcap (micro- and nanosecond, either byte order, the modified-pcap variants) and pcapng (several
/// sections and interfaces, if_tsresol, comments, direction flags; every other block skipped by its
/// length), gzip- or zstd-compressed, one packet at a time from any stream — a multi-gigabyte file or
/// a pipe from tcpdump is never held whole. A damaged file yields every packet before the damage and
/// then a clear <see cref="Error"/> naming the byte offset; nothing throws for bad input and nothing
/// loops forever (every step consumes bytes).
/// </summary>
public sealed class CaptureReader : IDisposable
{
    private const int MaxBlock = 64 * 1024 * 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private byte[] _buf = new byte[64 * 1024];
    private int _start, _end;
    private long _offset; // bytes of the (decompressed) capture consumed
    private bool _eof;
    private int _frames;
    // pcap
    private bool _big, _nano;
    private int _link;
    // pcapng
    private readonly List<(int Link, long Resolution)> _ifaces = [];

    private CaptureReader(Stream stream, bool leaveOpen)
    {
        _stream = stream;
        _leaveOpen = leaveOpen;
    }

    /// <summary>"pcap", "pcapng", or "unknown" when the file is neither.</summary>
    public string Format { get; private set; } = "unknown";
    /// <summary>"gzip", "zstd" or null: how the file was compressed.</summary>
    public string? Compression { get; private set; }
    /// <summary>Why reading stopped early (truncation, corruption), or null while all is well.</summary>
    public string? Error { get; private set; }
    /// <summary>Bytes of the capture (after decompression) read so far.</summary>
    public long Offset => _offset;
    /// <summary>pcapng blocks that carry no packet we read (statistics, name resolution, custom, unknown types), skipped whole.</summary>
    public long BlocksSkipped { get; private set; }

    /// <summary>Opens a capture on <paramref name="stream"/>, decompressing gzip and zstd as it goes. Never throws for what the stream holds.</summary>
    public static CaptureReader Open(Stream stream, bool leaveOpen = false)
    {
        var r = new CaptureReader(stream, leaveOpen);
        r.Start();
        return r;
    }

    /// <summary>Reads a whole capture into memory (for small files and tests; the analyzer streams).</summary>
    public static CaptureFile Read(string path)
    {
        FileStream fs;
        try
        {
            fs = File.OpenRead(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CaptureFile([], "unknown", $"cannot read {path}: {ex.Message}");
        }
        using var r = Open(fs);
        return r.ReadAll();
    }

    /// <summary>Reads a whole capture held in memory (pcap or pcapng, plain or compressed).</summary>
    public static CaptureFile Read(ReadOnlySpan<byte> file)
    {
        using var r = Open(new MemoryStream(file.ToArray(), writable: false));
        return r.ReadAll();
    }

    private CaptureFile ReadAll()
    {
        var list = new List<CapturedPacket>();
        while (TryRead(out var p)) list.Add(p);
        return new CaptureFile(list, Format, Error);
    }

    /// <summary>The packets one at a time, as they are read: a capture of any size is never held whole.</summary>
    public IEnumerable<CapturedPacket> Packets()
    {
        while (TryRead(out var p)) yield return p;
    }

    /// <summary>Closes the stream, unless the reader was opened to leave it open.</summary>
    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    // ------------------------------------------------------------------ buffering

    private Stream _source = Stream.Null;

    /// <summary>Makes at least <paramref name="n"/> bytes available; false at the end of the stream (or a read error, in <see cref="Error"/>).</summary>
    private bool Fill(int n)
    {
        if (_end - _start >= n) return true;
        if (n > _buf.Length - _start)
        {
            if (n > _buf.Length)
            {
                var bigger = new byte[Math.Max(n, _buf.Length * 2)];
                Buffer.BlockCopy(_buf, _start, bigger, 0, _end - _start);
                _buf = bigger;
            }
            else
            {
                Buffer.BlockCopy(_buf, _start, _buf, 0, _end - _start);
            }
            _end -= _start;
            _start = 0;
        }
        while (_end - _start < n && !_eof)
        {
            int k;
            try
            {
                k = _source.Read(_buf, _end, _buf.Length - _end);
            }
            catch (Exception ex) when (ex is IOException or InvalidDataException or ObjectDisposedException or NotSupportedException or UnauthorizedAccessException || ex.GetType().Namespace == "ZstdSharp")
            {
                Error ??= $"cannot read past byte {_offset + (_end - _start)}{(Compression is null ? "" : $" of the {Compression}-decompressed data")}: {ex.Message}";
                _eof = true;
                break;
            }
            if (k == 0) _eof = true;
            _end += k;
        }
        return _end - _start >= n;
    }

    private ReadOnlySpan<byte> Peek(int n) => _buf.AsSpan(_start, n);

    private void Consume(int n)
    {
        _start += n;
        _offset += n;
    }

    private bool AtEnd => _end == _start && !Fill(1);

    private void Start()
    {
        _source = _stream;
        if (!Fill(4))
        {
            Error ??= _end - _start == 0 ? "not a capture file: it is empty" : "not a capture file: shorter than 4 bytes";
            return;
        }
        var head = Peek(4);
        if (head[0] == 0x1F && head[1] == 0x8B) Decompress("gzip", s => new GZipStream(s, CompressionMode.Decompress));
        else if (BinaryPrimitives.ReadUInt32LittleEndian(head) == 0xFD2FB528) Decompress("zstd", s => new ZstdSharp.DecompressionStream(s));
        if (!Fill(4))
        {
            Error ??= $"not a capture file: the {Compression} data holds fewer than 4 bytes";
            return;
        }
        head = Peek(4);
        uint magicLe = BinaryPrimitives.ReadUInt32LittleEndian(head);
        uint magicBe = BinaryPrimitives.ReadUInt32BigEndian(head);
        if (magicLe == 0x0A0D0D0A)
        {
            Format = "pcapng";
            return;
        }
        foreach (var (magic, nano) in new[] { (0xa1b2c3d4u, false), (0xa1b23c4du, true), (0xa1b2cd34u, false) })
        {
            if (magicLe != magic && magicBe != magic) continue;
            Format = "pcap";
            _big = magicBe == magic;
            _nano = nano;
            _modified = magic == 0xa1b2cd34u;
            if (!Fill(24))
            {
                Error = "truncated pcap header";
                return;
            }
            _link = (int)(U32(Peek(24)[20..]) & 0x0FFFFFFF);
            Consume(24);
            return;
        }
        Error = $"not a pcap or pcapng file (first bytes {Convert.ToHexString(head)}{(Compression is null ? "" : $", after {Compression} decompression")})";
    }

    private bool _modified; // Alexey Kuznetsov's patched pcap: 8 more bytes per record header

    private void Decompress(string kind, Func<Stream, Stream> wrap)
    {
        Compression = kind;
        // Hand the decompressor what was already buffered, then the rest of the stream.
        var prefix = _buf.AsSpan(_start, _end - _start).ToArray();
        _start = _end = 0;
        _eof = false;
        try
        {
            _source = wrap(new PrefixedStream(prefix, _stream));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException || ex.GetType().Namespace == "ZstdSharp")
        {
            Error = $"cannot read the {kind} data: {ex.Message}";
            _source = Stream.Null;
        }
    }

    private uint U32(ReadOnlySpan<byte> s) => _big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
    private ushort U16(ReadOnlySpan<byte> s) => _big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);

    /// <summary>The next packet, or false at the end of the capture or at damage (then <see cref="Error"/> says what and where).</summary>
    public bool TryRead([NotNullWhen(true)] out CapturedPacket? packet)
    {
        packet = null;
        if (Error is not null) return false;
        return Format switch
        {
            "pcap" => NextPcap(out packet),
            "pcapng" => NextPcapNg(out packet),
            _ => false,
        };
    }

    private bool NextPcap([NotNullWhen(true)] out CapturedPacket? packet)
    {
        packet = null;
        if (AtEnd) return false;
        int header = _modified ? 24 : 16;
        if (!Fill(header))
        {
            Error ??= $"truncated record header at byte {_offset} (after frame {_frames})";
            return false;
        }
        var h = Peek(header);
        long sec = U32(h);
        long frac = U32(h[4..]);
        uint incl = U32(h[8..]);
        uint orig = U32(h[12..]);
        if (incl > MaxBlock)
        {
            Error = $"corrupt record at byte {_offset}: captured length {incl}";
            return false;
        }
        if (!Fill(header + (int)incl))
        {
            Error ??= $"truncated packet at byte {_offset} (frame {_frames + 1})";
            return false;
        }
        long ts = sec * 1_000_000_000 + (_nano ? frac : frac * 1000);
        var data = _buf.AsSpan(_start + header, (int)incl).ToArray();
        Consume(header + (int)incl);
        packet = new CapturedPacket(++_frames, ts, 0, _link, data, (int)Math.Min(Math.Max(orig, incl), int.MaxValue), PacketDirection.Unknown, null);
        return true;
    }

    private bool NextPcapNg([NotNullWhen(true)] out CapturedPacket? packet)
    {
        packet = null;
        while (true)
        {
            if (AtEnd) return false;
            if (!Fill(12))
            {
                Error ??= $"truncated block header at byte {_offset}";
                return false;
            }
            var head = Peek(12);
            if (BinaryPrimitives.ReadUInt32LittleEndian(head) == 0x0A0D0D0A)
            {
                // A new section: its byte-order magic decides the endianness of everything up to the next one.
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(head[8..]);
                if (bom == 0x1A2B3C4D) _big = false;
                else if (bom == 0x4D3C2B1A) _big = true;
                else
                {
                    Error = $"corrupt section header at byte {_offset}: byte-order magic {bom:X8}";
                    return false;
                }
                _ifaces.Clear();
            }
            uint type = U32(head);
            uint len = U32(head[4..]);
            if (len < 12 || len % 4 != 0 || len > MaxBlock)
            {
                Error = $"corrupt block at byte {_offset}: length {len}";
                return false;
            }
            if (!Fill((int)len))
            {
                Error ??= $"truncated block at byte {_offset} (frame {_frames + 1})";
                return false;
            }
            var block = Peek((int)len);
            if (U32(block[((int)len - 4)..]) != len)
            {
                Error = $"corrupt block at byte {_offset}: trailing length {U32(block[((int)len - 4)..])} differs from {len}";
                return false;
            }
            var body = block[8..((int)len - 4)];
            long at = _offset;
            packet = type switch
            {
                6 when body.Length >= 20 => Enhanced(body, at),
                3 when body.Length >= 4 && _ifaces.Count > 0 => Simple(body),
                2 when body.Length >= 20 => Enhanced(body, at, obsolete: true),
                _ => null,
            };
            if (Error is not null) return false;
            if (type == 1 && body.Length >= 8) Interface(body);
            else if (packet is null && type is not (0x0A0D0D0A or 1)) BlocksSkipped++;
            Consume((int)len);
            if (packet is not null) return true;
        }
    }

    private void Interface(ReadOnlySpan<byte> body)
    {
        long resolution = 1_000_000; // microseconds unless if_tsresol says otherwise
        foreach (var (code, value) in Options(body[8..]))
        {
            if (code != 9 || value.Length < 1) continue;
            byte r = value[0];
            resolution = (r & 0x80) == 0 ? Pow(10, r & 0x7F) : Pow(2, r & 0x7F);
        }
        _ifaces.Add((U16(body), resolution));
    }

    /// <summary>An enhanced packet block, or the obsolete packet block (type 2: a 16-bit interface and a drop count where the enhanced one has a 32-bit interface).</summary>
    private CapturedPacket? Enhanced(ReadOnlySpan<byte> body, long at, bool obsolete = false)
    {
        int id = obsolete ? U16(body) : (int)U32(body);
        if ((uint)id >= (uint)_ifaces.Count)
        {
            Error = $"packet at byte {at} names interface {id}, which was not described";
            return null;
        }
        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
        uint cap = U32(body[12..]);
        uint orig = U32(body[16..]);
        if (cap > body.Length - 20)
        {
            Error = $"corrupt packet block at byte {at}: captured length {cap} in a block of {body.Length + 12}";
            return null;
        }
        var (dir, comment) = PacketOptions(body, 20 + (((int)cap + 3) & ~3));
        return new CapturedPacket(++_frames, ToNs(ts, _ifaces[id].Resolution), id, _ifaces[id].Link, body.Slice(20, (int)cap).ToArray(), (int)Math.Min(Math.Max(orig, cap), int.MaxValue), dir, comment);
    }

    private CapturedPacket Simple(ReadOnlySpan<byte> body)
    {
        uint orig = U32(body);
        int cap = (int)Math.Min(orig, (uint)(body.Length - 4));
        return new CapturedPacket(++_frames, 0, 0, _ifaces[0].Link, body.Slice(4, cap).ToArray(), (int)Math.Min(orig, int.MaxValue), PacketDirection.Unknown, null);
    }

    private (PacketDirection, string?) PacketOptions(ReadOnlySpan<byte> body, int optStart)
    {
        var dir = PacketDirection.Unknown;
        string? comment = null;
        if (optStart > body.Length) return (dir, comment);
        foreach (var (code, value) in Options(body[optStart..]))
        {
            if (code == 2 && value.Length >= 4) dir = (PacketDirection)(U32(value) & 3);
            if (code == 1) comment = comment is null ? Encoding.UTF8.GetString(value) : comment + "; " + Encoding.UTF8.GetString(value);
        }
        return (dir, comment);
    }

    private List<(ushort Code, byte[] Value)> Options(ReadOnlySpan<byte> o)
    {
        var list = new List<(ushort, byte[])>();
        int i = 0;
        while (i + 4 <= o.Length)
        {
            ushort code = U16(o[i..]);
            ushort len = U16(o[(i + 2)..]);
            if (code == 0 || i + 4 + len > o.Length) break;
            list.Add((code, o.Slice(i + 4, len).ToArray()));
            i += 4 + ((len + 3) & ~3);
        }
        return list;
    }

    private static long Pow(long b, int e)
    {
        long r = 1;
        for (int i = 0; i < e && r < long.MaxValue / b; i++) r *= b;
        return r;
    }

    private static long ToNs(ulong ticks, long perSecond)
    {
        if (perSecond <= 0) return 0;
        ulong sec = ticks / (ulong)perSecond;
        ulong rem = ticks % (ulong)perSecond;
        return (long)(sec * 1_000_000_000 + (ulong)((decimal)rem * 1_000_000_000m / perSecond));
    }

    /// <summary>Where the IP header starts for a link type, or -1 for a frame that does not carry IP (the simple view; the analyzer decodes more).</summary>
    public static int IpOffset(int linkType, ReadOnlySpan<byte> d)
    {
        switch ((LinkType)linkType)
        {
            case LinkType.Raw:
            case LinkType.Ipv4:
            case LinkType.Ipv6:
                return 0;
            case LinkType.Ethernet:
                {
                    int off = 12;
                    while (d.Length >= off + 2)
                    {
                        ushort et = BinaryPrimitives.ReadUInt16BigEndian(d[off..]);
                        if (et is 0x8100 or 0x88A8) { off += 4; continue; } // VLAN tags
                        return et is 0x0800 or 0x86DD ? off + 2 : -1;
                    }
                    return -1;
                }
            case LinkType.LinuxSll:
                if (d.Length < 16) return -1;
                return BinaryPrimitives.ReadUInt16BigEndian(d[14..]) is 0x0800 or 0x86DD ? 16 : -1;
            case LinkType.LinuxSll2:
                if (d.Length < 20) return -1;
                return BinaryPrimitives.ReadUInt16BigEndian(d) is 0x0800 or 0x86DD ? 20 : -1;
            case LinkType.Null:
            case LinkType.Loop:
                {
                    if (d.Length < 4) return -1;
                    uint fam = (LinkType)linkType == LinkType.Loop ? BinaryPrimitives.ReadUInt32BigEndian(d) : BinaryPrimitives.ReadUInt32LittleEndian(d);
                    if (fam > 0xFFFF) fam = BinaryPrimitives.ReverseEndianness(fam); // a capture from the other byte order
                    return fam is 2 or 24 or 28 or 30 ? 4 : -1;
                }
            default:
                return -1;
        }
    }
}

/// <summary>A whole capture read into memory: its packets, its format, and why reading stopped early (or null).</summary>
public sealed record CaptureFile(IReadOnlyList<CapturedPacket> Packets, string Format, string? Error);
