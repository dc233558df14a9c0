using System.Buffers.Binary;
using System.IO.Compression;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>
/// What real captures wrap TCP in: each frame here carries the same handshake segment inside another
/// link type or tunnel, and the analyzer must find it, as tshark does; what it cannot read it counts
/// and names. The capture files are built byte by byte, as the formats specify them.
/// </summary>
public sealed class EncapsulationTests
{
    private static readonly IpAddr Client = IpAddr.Parse("192.0.2.1"), Server = IpAddr.Parse("192.0.2.2");

    internal static byte[] Segment(TcpFlags flags, uint seq, uint ack, int payload = 0, IpAddr? src = null, IpAddr? dst = null, ushort sport = 40000, ushort dport = 80)
    {
        var h = new TcpHeader { SourcePort = sport, DestinationPort = dport, Seq = new SeqNum(seq), Ack = new SeqNum(ack), Flags = flags, Window = 1000 };
        var buf = new byte[TcpPacket.MaxLength(payload)];
        int n = TcpPacket.Write(buf, src ?? Client, dst ?? Server, in h, TcpOptionLayout.Established, new byte[payload]);
        return buf[..n];
    }

    /// <summary>A three-way handshake and one data segment, client first.</summary>
    private static byte[][] Handshake() =>
    [
        Segment(TcpFlags.Syn, 1000, 0),
        Segment(TcpFlags.Syn | TcpFlags.Ack, 5000, 1001, src: Server, dst: Client, sport: 80, dport: 40000),
        Segment(TcpFlags.Ack, 1001, 5001),
        Segment(TcpFlags.Ack | TcpFlags.Psh, 1001, 5001, payload: 100),
    ];

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Ethernet(ushort type, byte[] payload) => Concat(new byte[12], [(byte)(type >> 8), (byte)type], payload);

    private static byte[] Ipv4(byte proto, byte[] payload, IpAddr? src = null, IpAddr? dst = null)
    {
        var h = new byte[20];
        h[0] = 0x45;
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), (ushort)(20 + payload.Length));
        h[8] = 64;
        h[9] = proto;
        (src ?? IpAddr.Parse("198.51.100.1")).WriteTo(h.AsSpan(12, 4));
        (dst ?? IpAddr.Parse("198.51.100.2")).WriteTo(h.AsSpan(16, 4));
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), InternetChecksum.Compute(h));
        return Concat(h, payload);
    }

    private static byte[] Udp(ushort dport, byte[] payload)
    {
        var h = new byte[8];
        BinaryPrimitives.WriteUInt16BigEndian(h, 50000);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), dport);
        BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), (ushort)(8 + payload.Length));
        return Concat(h, payload);
    }

    internal static byte[] Pcap(int linkType, IEnumerable<byte[]> frames)
    {
        using var ms = new MemoryStream();
        var head = new byte[24];
        BinaryPrimitives.WriteUInt32LittleEndian(head, 0xa1b2c3d4);
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(4), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(head.AsSpan(6), 4);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(16), 65535);
        BinaryPrimitives.WriteUInt32LittleEndian(head.AsSpan(20), (uint)linkType);
        ms.Write(head);
        int i = 0;
        foreach (var f in frames)
        {
            var rec = new byte[16];
            BinaryPrimitives.WriteUInt32LittleEndian(rec, 1_700_000_000);
            BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(4), (uint)(i++ * 1000));
            BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(8), (uint)f.Length);
            BinaryPrimitives.WriteUInt32LittleEndian(rec.AsSpan(12), (uint)f.Length);
            ms.Write(rec);
            ms.Write(f);
        }
        return ms.ToArray();
    }

    private static AnalysisSummary Analyze(byte[] file, AnalysisOptions? options = null)
    {
        using var reader = CaptureReader.Open(new MemoryStream(file));
        return CaptureAnalyzer.Run(reader, (options ?? new AnalysisOptions()) with { KeepPackets = true }, null);
    }

    private static void AssertOneHandshake(AnalysisSummary s, string what, string client = "192.0.2.1:40000")
    {
        Assert.True(s.Error is null, $"{what}: {s.Error}");
        Assert.True(s.TcpFrames == 4, $"{what}: {s.TcpFrames} TCP frames; unsupported {string.Join(", ", s.Unsupported)}; malformed {string.Join(", ", s.Malformed)}");
        var c = Assert.Single(s.Conversations);
        Assert.Equal(client, c.Client);
        Assert.Equal([0L, 0, 1, 1], c.Packets.Select(p => p.Seq));
        Assert.Equal(100, c.Packets[3].Length);
        Assert.Equal(TcpState.Established, c.Packets[3].ServerState);
    }

    public static TheoryData<string> Wrappings() =>
    [
        "ethernet", "vlan", "qinq", "mpls", "pppoe", "snap", "ipip", "gre", "gre-erspan2", "gre-teb", "vxlan", "geneve", "gtp", "6in4-v6-inner",
        "sll", "sll2", "null", "loop", "raw", "ppp", "chdlc", "radiotap-80211", "ipoib", "nflog", "gre-aruba-amsdu", "vntag", "fabricpath",
    ];

    [Theory]
    [MemberData(nameof(Wrappings))]
    public void The_handshake_is_found_inside(string wrapping)
    {
        var (link, wrap) = Wrap(wrapping);
        AssertOneHandshake(Analyze(Pcap(link, Handshake().Select(wrap))), wrapping, wrapping.StartsWith("6in4") ? "[2001:db8::1]:40000" : "192.0.2.1:40000");
    }

    private static (int Link, Func<byte[], byte[]> Wrap) Wrap(string wrapping) => wrapping switch
    {
        "ethernet" => (1, ip => Ethernet(0x0800, ip)),
        "vlan" => (1, ip => Ethernet(0x8100, Concat([0, 42, 0x08, 0x00], ip))),
        "qinq" => (1, ip => Ethernet(0x88A8, Concat([0, 7, 0x81, 0x00], [0, 42, 0x08, 0x00], ip))),
        "mpls" => (1, ip => Ethernet(0x8847, Concat([0, 1, 0x00, 64], [0, 2, 0x01, 64], ip))), // two labels, bottom of stack on the second
        "pppoe" => (1, ip => Ethernet(0x8864, Concat([0x11, 0, 0, 1, (byte)((ip.Length + 2) >> 8), (byte)(ip.Length + 2)], [0x00, 0x21], ip))),
        "snap" => (1, ip => Concat(new byte[12], [(byte)((ip.Length + 8) >> 8), (byte)(ip.Length + 8)], [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], ip)),
        "ipip" => (1, ip => Ethernet(0x0800, Ipv4(4, ip))),
        "gre" => (1, ip => Ethernet(0x0800, Ipv4(47, Concat([0x20, 0, 0x08, 0x00], [0, 0, 0, 9], ip)))), // with a key
        "gre-erspan2" => (1, ip => Ethernet(0x0800, Ipv4(47, Concat([0x10, 0, 0x88, 0xBE], [0, 0, 0, 1], new byte[8], Ethernet(0x0800, ip))))),
        "gre-teb" => (1, ip => Ethernet(0x0800, Ipv4(47, Concat([0, 0, 0x65, 0x58], Ethernet(0x0800, ip))))),
        "vxlan" => (1, ip => Ethernet(0x0800, Ipv4(17, Udp(4789, Concat([0x08, 0, 0, 0, 0, 0, 1, 0], Ethernet(0x0800, ip)))))),
        "geneve" => (1, ip => Ethernet(0x0800, Ipv4(17, Udp(6081, Concat([0x01, 0, 0x65, 0x58, 0, 0, 1, 0], [0, 0, 0, 0], Ethernet(0x0800, ip)))))), // 4 bytes of options
        "gtp" => (1, ip => Ethernet(0x0800, Ipv4(17, Udp(2152, Concat([0x30, 0xFF, (byte)(ip.Length >> 8), (byte)ip.Length, 0, 0, 0, 1], ip))))),
        "6in4-v6-inner" => (1, ip => Ethernet(0x0800, Ipv4(41, ToIpv6(ip)))),
        "sll" => (113, ip => Concat([0, 0, 0, 1, 0, 6], new byte[8], [0x08, 0x00], ip)),
        "sll2" => (276, ip => Concat([0x08, 0x00, 0, 0], new byte[16], ip)),
        "null" => (0, ip => Concat([2, 0, 0, 0], ip)),
        "loop" => (108, ip => Concat([0, 0, 0, 2], ip)),
        "raw" => (101, ip => ip),
        "ppp" => (9, ip => Concat([0xFF, 0x03, 0x00, 0x21], ip)),
        "chdlc" => (104, ip => Concat([0x0F, 0x00, 0x08, 0x00], ip)),
        "radiotap-80211" => (127, ip => Concat([0, 0, 8, 0, 0, 0, 0, 0], [0x08, 0x02], new byte[22], [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], ip)),
        // Aruba's controllers tunnel 802.11 frames in GRE; this one a QoS data frame whose payload is an A-MSDU.
        "gre-aruba-amsdu" => (1, ip => Ethernet(0x0800, Ipv4(47, Concat([0, 0, 0x82, 0x40], [0x88, 0x02], new byte[22], [0x80, 0x00],
            new byte[12], [(byte)((ip.Length + 8) >> 8), (byte)(ip.Length + 8)], [0xAA, 0xAA, 0x03, 0, 0, 0, 0x08, 0x00], ip)))),
        "vntag" => (1, ip => Ethernet(0x8100, Concat([0, 250, 0x89, 0x26], [0, 0, 0, 0x33, 0x81, 0x00], [0, 250, 0x08, 0x00], ip))), // a VN-tag between two VLAN tags
        "fabricpath" => (1, ip => Ethernet(0x8903, Concat([0, 0], Ethernet(0x0800, ip), [1, 2, 3, 4]))), // the inner frame's FCS last
        "ipoib" => (242, ip => Concat(new byte[40], [0x08, 0x00, 0, 0], ip)),
        "nflog" => (239, ip => Concat([2, 0, 0, 0], Tlv(9, ip))),
        _ => throw new ArgumentException(wrapping),
    };

    private static byte[] Tlv(ushort type, byte[] value)
    {
        var h = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(h, (ushort)(4 + value.Length));
        BinaryPrimitives.WriteUInt16LittleEndian(h.AsSpan(2), type);
        var pad = new byte[(4 - value.Length % 4) % 4];
        return Concat(h, value, pad);
    }

    /// <summary>The same TCP segment under an IPv6 header (2001:db8::1 to 2001:db8::2).</summary>
    private static byte[] ToIpv6(byte[] ipv4)
    {
        var src = IpAddr.Parse(ipv4[12] == 192 && ipv4[15] == 1 ? "2001:db8::1" : "2001:db8::2");
        var dst = IpAddr.Parse(ipv4[12] == 192 && ipv4[15] == 1 ? "2001:db8::2" : "2001:db8::1");
        TcpPacket.TryParse(ipv4, out var ip, out var tcp, out _, verifyChecksum: false);
        var payload = ipv4.AsSpan(20 + tcp.HeaderLength).ToArray();
        var buf = new byte[TcpPacket.MaxLength(payload.Length)];
        var h = tcp;
        h.Options = default;
        int n = TcpPacket.Write(buf, src, dst, in h, TcpOptionLayout.Established, payload);
        return buf[..n];
    }

    [Fact]
    public void Ipv4_fragments_are_reassembled_and_the_segment_belongs_to_the_frame_that_completed_it()
    {
        var frames = Handshake().Select(ip => ip).ToList();
        var data = frames[3];
        // Cut the data segment's IP payload in two fragments (the first 64 bytes, then the rest), sent in reverse order.
        var payload = data.AsSpan(20).ToArray();
        byte[] Fragment(int offset, byte[] part, bool more)
        {
            var h = data.AsSpan(0, 20).ToArray();
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(2), (ushort)(20 + part.Length));
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(4), 77);
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(6), (ushort)((more ? 0x2000 : 0) | offset / 8));
            h[10] = h[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(h.AsSpan(10), InternetChecksum.Compute(h));
            return Concat(h, part);
        }
        frames[3] = Fragment(64, payload[64..], more: false);
        frames.Add(Fragment(0, payload[..64], more: true));
        var s = Analyze(Pcap(101, frames));
        Assert.Equal(1, s.FragmentFrames);
        var c = Assert.Single(s.Conversations);
        Assert.Equal(5, c.Packets[3].Frame); // the frame that completed the datagram
        Assert.Equal(100, c.Packets[3].Length);
    }

    [Fact]
    public void A_frame_that_ends_inside_the_tcp_header_is_shown_with_relative_numbers_and_not_analyzed()
    {
        // The SYN again, its IP header claiming 40 bytes but the frame holding 36: a short segment, which
        // tshark shows with the numbers it has and without analysis (no "retransmission").
        var frames = Handshake().ToList();
        frames.Insert(1, frames[0][..36]);
        var c = Assert.Single(Analyze(Pcap(101, frames)).Conversations);
        Assert.Equal(5, c.Packets.Count);
        Assert.Equal(0, c.Packets[1].Seq);
        Assert.Empty(c.Packets[1].Findings);
        Assert.Equal(TcpState.Established, c.Packets[4].ServerState);
    }

    [Fact]
    public void A_pppoe_length_bounds_the_packet_so_ethernet_padding_is_not_data()
    {
        // An ACK whose IP header claims 6 bytes more than PPPoE carries (Zeek's pppoe-over-qinq trace),
        // in a frame padded to Ethernet's minimum: those 6 bytes are padding, not a segment's payload.
        var frames = Handshake().Select(ip => Ethernet(0x8864, Concat([0x11, 0, 0, 1, (byte)((ip.Length + 2) >> 8), (byte)(ip.Length + 2)], [0x00, 0x21], ip, new byte[6]))).ToArray();
        BinaryPrimitives.WriteUInt16BigEndian(frames[2].AsSpan(14 + 8 + 2), 46);
        var c = Assert.Single(Analyze(Pcap(1, frames)).Conversations);
        Assert.Equal([0, 0, 0, 100], c.Packets.Select(p => p.Length));
    }

    [Fact]
    public void A_bad_ipv4_header_checksum_is_marked_not_dropped()
    {
        var frames = Handshake();
        frames[2][10] ^= 0xFF; // offloaded: the checksum the NIC would have filled in
        var s = Analyze(Pcap(101, frames));
        Assert.Equal(4, s.TcpFrames);
        Assert.Equal(1, s.IpChecksumBad);
        Assert.True(Assert.Single(s.Conversations).Packets[2].IpChecksumBad);
    }

    [Fact]
    public void Tcp_checksums_are_verified_only_when_asked()
    {
        var frames = Handshake();
        frames[3][^1] ^= 0x55; // a payload byte changed after the checksum was computed
        Assert.Null(Analyze(Pcap(101, frames)).TcpChecksumBad);
        var s = Analyze(Pcap(101, frames), new AnalysisOptions { VerifyChecksums = true });
        Assert.Equal(1, s.TcpChecksumBad);
        var c = Assert.Single(s.Conversations);
        Assert.Equal([true, true, true, false], c.Packets.Select(p => p.TcpChecksumGood == true));
    }

    [Fact]
    public void What_cannot_be_read_is_counted_and_named()
    {
        var frames = Handshake().Select(ip => Ethernet(0x0800, Ipv4(47, Concat([0, 0, 0x12, 0x34], ip)))).ToList(); // GRE carrying protocol 0x1234
        var s = Analyze(Pcap(1, frames));
        Assert.Equal(0, s.TcpFrames);
        Assert.Equal(4, s.Unsupported["GRE protocol 0x1234"]);
        s = Analyze(Pcap(147, Handshake()));
        Assert.Equal(4, s.Unsupported["link type 147"]);
        var cut = Handshake().Select(ip => ip[..30]).ToList(); // IP header, then 10 bytes of TCP
        s = Analyze(Pcap(101, cut));
        Assert.Equal(4, s.Malformed["TCP header cut short"]);
    }

    [Theory]
    [InlineData("gzip")]
    [InlineData("zstd")]
    public void Compressed_captures_are_read_as_they_decompress(string compression)
    {
        var plain = Pcap(101, Handshake());
        using var ms = new MemoryStream();
        using (Stream z = compression == "gzip" ? new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true) : new ZstdSharp.CompressionStream(ms, leaveOpen: true))
        {
            z.Write(plain);
        }
        using var reader = CaptureReader.Open(new MemoryStream(ms.ToArray()));
        Assert.Equal(compression, reader.Compression);
        var s = CaptureAnalyzer.Run(reader, new AnalysisOptions { KeepPackets = true }, null);
        AssertOneHandshake(s, compression);
    }

    [Fact]
    public void A_pipe_is_read_packet_by_packet_without_seeking()
    {
        var plain = Pcap(101, Handshake());
        using var pipe = new OneByteAtATimeStream(plain);
        using var reader = CaptureReader.Open(pipe);
        AssertOneHandshake(CaptureAnalyzer.Run(reader, new AnalysisOptions { KeepPackets = true }, null), "pipe");
    }

    /// <summary>A stream that hands out one byte per read and cannot seek, as a slow pipe does.</summary>
    private sealed class OneByteAtATimeStream(byte[] data) : Stream
    {
        private int _at;
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_at >= data.Length || count == 0) return 0;
            buffer[offset] = data[_at++];
            return 1;
        }
        public override void Flush()
        {
        }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
