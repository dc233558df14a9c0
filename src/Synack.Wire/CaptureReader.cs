using System.Buffers.Binary;
using System.Text;

namespace Synack.Wire;

/// <summary>
/// Reads pcap (micro- and nanosecond, either byte order) and pcapng (several sections and interfaces,
/// if_tsresol, comments, direction flags). A damaged file yields every packet before the damage and a
/// clear <see cref="Error"/>; nothing throws and nothing loops forever (every step consumes bytes).
/// </summary>
public sealed class CaptureReader
{
    private const int MaxBlock = 64 * 1024 * 1024;

    private CaptureReader(List<CapturedPacket> packets, string format, string? error)
    {
        Packets = packets;
        Format = format;
        Error = error;
    }

    public IReadOnlyList<CapturedPacket> Packets { get; }
    /// <summary>"pcap" or "pcapng".</summary>
    public string Format { get; }
    /// <summary>Why reading stopped early (truncation, corruption), or null when the whole file was read.</summary>
    public string? Error { get; }

    public static CaptureReader Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return new CaptureReader([], "unknown", $"cannot read {path}: {ex.Message}");
        }
        return Read(bytes);
    }

    public static CaptureReader Read(ReadOnlySpan<byte> file)
    {
        if (file.Length < 4) return new CaptureReader([], "unknown", "not a capture file: shorter than 4 bytes");
        uint magicLe = BinaryPrimitives.ReadUInt32LittleEndian(file);
        uint magicBe = BinaryPrimitives.ReadUInt32BigEndian(file);
        if (magicLe == 0x0A0D0D0A) return ReadPcapNg(file);
        foreach (var (magic, big, nano) in new[] { (0xa1b2c3d4u, false, false), (0xa1b23c4du, false, true) })
        {
            if (magicLe == magic) return ReadPcap(file, big, nano);
            if (magicBe == magic) return ReadPcap(file, !big, nano);
        }
        return new CaptureReader([], "unknown", $"not a pcap or pcapng file (first bytes {Convert.ToHexString(file[..4])})");
    }

    private static CaptureReader ReadPcap(ReadOnlySpan<byte> f, bool bigEndian, bool nano)
    {
        var packets = new List<CapturedPacket>();
        if (f.Length < 24) return new CaptureReader(packets, "pcap", "truncated pcap header");
        uint U32(ReadOnlySpan<byte> s) => bigEndian ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
        int link = (int)(U32(f[20..]) & 0x0FFFFFFF);
        int off = 24;
        while (off < f.Length)
        {
            if (f.Length - off < 16) return new CaptureReader(packets, "pcap", $"truncated record header at byte {off} (after frame {packets.Count})");
            long sec = U32(f[off..]);
            long frac = U32(f[(off + 4)..]);
            uint incl = U32(f[(off + 8)..]);
            uint orig = U32(f[(off + 12)..]);
            if (incl > MaxBlock) return new CaptureReader(packets, "pcap", $"corrupt record at byte {off}: captured length {incl}");
            if (f.Length - off - 16 < incl) return new CaptureReader(packets, "pcap", $"truncated packet at byte {off} (frame {packets.Count + 1})");
            long ts = sec * 1_000_000_000 + (nano ? frac : frac * 1000);
            packets.Add(new CapturedPacket(packets.Count + 1, ts, 0, link, f.Slice(off + 16, (int)incl).ToArray(), (int)orig, PacketDirection.Unknown, null));
            off += 16 + (int)incl;
        }
        return new CaptureReader(packets, "pcap", null);
    }

    private static CaptureReader ReadPcapNg(ReadOnlySpan<byte> f)
    {
        var packets = new List<CapturedPacket>();
        var ifaces = new List<(int Link, long Resolution)>();
        bool big = false;
        int off = 0;
        while (off < f.Length)
        {
            if (f.Length - off < 12) return new CaptureReader(packets, "pcapng", $"truncated block header at byte {off}");
            uint type = BinaryPrimitives.ReadUInt32LittleEndian(f[off..]);
            if (type == 0x0A0D0D0A)
            {
                // A new section: its byte-order magic decides the endianness of everything up to the next one.
                uint bom = BinaryPrimitives.ReadUInt32LittleEndian(f[(off + 8)..]);
                if (bom == 0x1A2B3C4D) big = false;
                else if (bom == 0x4D3C2B1A) big = true;
                else return new CaptureReader(packets, "pcapng", $"corrupt section header at byte {off}");
                ifaces.Clear();
            }
            uint U32(ReadOnlySpan<byte> s) => big ? BinaryPrimitives.ReadUInt32BigEndian(s) : BinaryPrimitives.ReadUInt32LittleEndian(s);
            ushort U16(ReadOnlySpan<byte> s) => big ? BinaryPrimitives.ReadUInt16BigEndian(s) : BinaryPrimitives.ReadUInt16LittleEndian(s);
            type = U32(f[off..]);
            uint len = U32(f[(off + 4)..]);
            if (len < 12 || len % 4 != 0 || len > MaxBlock) return new CaptureReader(packets, "pcapng", $"corrupt block at byte {off}: length {len}");
            if (f.Length - off < len) return new CaptureReader(packets, "pcapng", $"truncated block at byte {off} (frame {packets.Count + 1})");
            var body = f.Slice(off + 8, (int)len - 12);
            if (U32(f[(off + (int)len - 4)..]) != len) return new CaptureReader(packets, "pcapng", $"corrupt block at byte {off}: trailing length differs");
            switch (type)
            {
                case 1 when body.Length >= 8: // interface description
                    {
                        long resolution = 1_000_000; // microseconds unless if_tsresol says otherwise
                        foreach (var (code, value) in Options(body[8..], U16))
                        {
                            if (code != 9 || value.Length < 1) continue;
                            byte r = value[0];
                            resolution = (r & 0x80) == 0 ? Pow(10, r & 0x7F) : Pow(2, r & 0x7F);
                        }
                        ifaces.Add((U16(body), resolution));
                        break;
                    }
                case 6 when body.Length >= 20: // enhanced packet
                    {
                        int id = (int)U32(body);
                        if ((uint)id >= (uint)ifaces.Count) return new CaptureReader(packets, "pcapng", $"packet at byte {off} names interface {id}, which was not described");
                        ulong ts = ((ulong)U32(body[4..]) << 32) | U32(body[8..]);
                        uint cap = U32(body[12..]);
                        uint orig = U32(body[16..]);
                        if (cap > body.Length - 20) return new CaptureReader(packets, "pcapng", $"corrupt packet block at byte {off}: captured length {cap}");
                        var data = body.Slice(20, (int)cap).ToArray();
                        var dir = PacketDirection.Unknown;
                        string? comment = null;
                        int optStart = 20 + (((int)cap + 3) & ~3);
                        if (optStart <= body.Length)
                        {
                            foreach (var (code, value) in Options(body[optStart..], U16))
                            {
                                if (code == 2 && value.Length >= 4) dir = (PacketDirection)(U32(value) & 3);
                                if (code == 1) comment = comment is null ? Encoding.UTF8.GetString(value) : comment + "; " + Encoding.UTF8.GetString(value);
                            }
                        }
                        packets.Add(new CapturedPacket(packets.Count + 1, ToNs(ts, ifaces[id].Resolution), id, ifaces[id].Link, data, (int)orig, dir, comment));
                        break;
                    }
                case 3 when body.Length >= 4 && ifaces.Count > 0: // simple packet: interface 0, no timestamp
                    {
                        uint orig = U32(body);
                        int cap = (int)Math.Min(orig, (uint)(body.Length - 4));
                        packets.Add(new CapturedPacket(packets.Count + 1, 0, 0, ifaces[0].Link, body.Slice(4, cap).ToArray(), (int)orig, PacketDirection.Unknown, null));
                        break;
                    }
            }
            off += (int)len;
        }
        return new CaptureReader(packets, "pcapng", null);
    }

    private static List<(ushort Code, byte[] Value)> Options(ReadOnlySpan<byte> o, Func<ReadOnlySpan<byte>, ushort> u16)
    {
        var list = new List<(ushort, byte[])>();
        int i = 0;
        while (i + 4 <= o.Length)
        {
            ushort code = u16(o[i..]);
            ushort len = u16(o[(i + 2)..]);
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

    /// <summary>Where the IP header starts for a link type, or -1 for a frame that does not carry IP.</summary>
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
