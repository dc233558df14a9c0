using System.Buffers.Binary;

namespace Synack.Wire.Tests;

public class CaptureReaderTests
{
    private static byte[] TcpPacketBytes(uint seq, int payload = 10)
    {
        var h = new TcpHeader { SourcePort = 40000, DestinationPort = 80, Seq = new SeqNum(seq), Flags = TcpFlags.Ack, Window = 100 };
        var buf = new byte[TcpPacket.MaxLength(payload)];
        int n = TcpPacket.Write(buf, IpAddr.Parse("192.0.2.1"), IpAddr.Parse("192.0.2.2"), in h, TcpOptionLayout.Established, new byte[payload]);
        return buf[..n];
    }

    private static byte[] PcapNg(int packets)
    {
        using var ms = new MemoryStream();
        using (var w = new PcapNgWriter(ms, ownsStream: false))
        {
            int a = w.AddInterface("a");
            int b = w.AddInterface("b");
            for (int i = 0; i < packets; i++)
            {
                w.WritePacket(i % 2 == 0 ? a : b, TcpPacketBytes((uint)i), 1_700_000_000_123_456_789L + i, i % 2 == 0 ? PacketDirection.Outbound : PacketDirection.Inbound, i == 1 ? "client: SYN-SENT -> ESTABLISHED" : null);
            }
        }
        return ms.ToArray();
    }

    [Fact]
    public void Pcapng_round_trips_timestamps_interfaces_directions_and_comments()
    {
        var r = CaptureReader.Read(PcapNg(5));
        Assert.Null(r.Error);
        Assert.Equal("pcapng", r.Format);
        Assert.Equal(5, r.Packets.Count);
        Assert.Equal(1_700_000_000_123_456_790L, r.Packets[1].TimestampNs);
        Assert.Equal(1, r.Packets[1].Interface);
        Assert.Equal(PacketDirection.Inbound, r.Packets[1].Direction);
        Assert.Equal("client: SYN-SENT -> ESTABLISHED", r.Packets[1].Comment);
        Assert.Equal((int)LinkType.Raw, r.Packets[0].LinkType);
        Assert.True(TcpPacket.TryParse(r.Packets[3].Ip, out _, out var tcp, out _));
        Assert.Equal(new SeqNum(3), tcp.Seq);
        Assert.Equal(Enumerable.Range(1, 5), r.Packets.Select(p => p.Frame));
    }

    /// <summary>A classic pcap written by hand: microsecond or nanosecond, little or big endian, any of the link types.</summary>
    private static byte[] Pcap(bool bigEndian, bool nano, LinkType link, params byte[][] frames)
    {
        var ms = new MemoryStream();
        void U32(uint v)
        {
            var b = new byte[4];
            if (bigEndian) BinaryPrimitives.WriteUInt32BigEndian(b, v); else BinaryPrimitives.WriteUInt32LittleEndian(b, v);
            ms.Write(b);
        }
        void U16(ushort v)
        {
            var b = new byte[2];
            if (bigEndian) BinaryPrimitives.WriteUInt16BigEndian(b, v); else BinaryPrimitives.WriteUInt16LittleEndian(b, v);
            ms.Write(b);
        }
        U32(nano ? 0xa1b23c4du : 0xa1b2c3d4u);
        U16(2); U16(4); U32(0); U32(0); U32(65535); U32((uint)link);
        uint i = 0;
        foreach (var f in frames)
        {
            U32(1_700_000_000 + i); U32(nano ? 123_456_789u : 123_456u); U32((uint)f.Length); U32((uint)f.Length);
            ms.Write(f);
            i++;
        }
        return ms.ToArray();
    }

    public static TheoryData<LinkType, byte[]> Encapsulations()
    {
        var ip = TcpPacketBytes(7);
        var d = new TheoryData<LinkType, byte[]>
        {
            { LinkType.Raw, ip },
            { LinkType.Ethernet, [.. new byte[12], 0x08, 0x00, .. ip] },
            { LinkType.Ethernet, [.. new byte[12], 0x81, 0x00, 0, 5, 0x08, 0x00, .. ip] }, // VLAN tagged
            { LinkType.LinuxSll, [.. new byte[14], 0x08, 0x00, .. ip] },
            { LinkType.LinuxSll2, [0x08, 0x00, .. new byte[18], .. ip] },
            { LinkType.Null, [2, 0, 0, 0, .. ip] },
            { LinkType.Loop, [0, 0, 0, 2, .. ip] },
            { LinkType.Ipv4, ip },
        };
        return d;
    }

    [Theory]
    [MemberData(nameof(Encapsulations))]
    public void Every_link_type_leads_to_the_ip_packet(LinkType link, byte[] frame)
    {
        foreach (var big in new[] { false, true })
        {
            foreach (var nano in new[] { false, true })
            {
                var r = CaptureReader.Read(Pcap(big, nano, link, frame, frame));
                Assert.Null(r.Error);
                Assert.Equal(2, r.Packets.Count);
                Assert.Equal(1_700_000_001_123_456_000L + (nano ? 789 : 0), r.Packets[1].TimestampNs);
                Assert.True(TcpPacket.TryParse(r.Packets[0].Ip, out _, out var tcp, out var err), err.Describe());
                Assert.Equal(new SeqNum(7), tcp.Seq);
            }
        }
    }

    [Fact]
    public void A_non_ip_frame_has_no_ip_offset()
    {
        byte[] arp = [.. new byte[12], 0x08, 0x06, .. new byte[28]];
        var r = CaptureReader.Read(Pcap(false, false, LinkType.Ethernet, arp));
        Assert.Equal(-1, r.Packets[0].IpOffset);
        Assert.True(r.Packets[0].Ip.IsEmpty);
    }

    [Fact]
    public void A_truncated_file_yields_every_packet_before_the_damage_and_says_where()
    {
        var whole = PcapNg(10);
        var r = CaptureReader.Read(whole.AsSpan(0, whole.Length - 30));
        Assert.Equal(9, r.Packets.Count);
        Assert.Contains("truncated block", r.Error);

        var pcap = Pcap(false, false, LinkType.Raw, TcpPacketBytes(1), TcpPacketBytes(2), TcpPacketBytes(3));
        r = CaptureReader.Read(pcap.AsSpan(0, pcap.Length - 5));
        Assert.Equal(2, r.Packets.Count);
        Assert.Contains("truncated packet", r.Error);
    }

    [Fact]
    public void A_corrupt_block_length_and_a_non_capture_file_are_clear_errors()
    {
        var bytes = PcapNg(3);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 13); // the section header's length: not a multiple of 4
        var r = CaptureReader.Read(bytes);
        Assert.Empty(r.Packets);
        Assert.Contains("corrupt block", r.Error);

        r = CaptureReader.Read("GET / HTTP/1.1\r\n"u8);
        Assert.Contains("not a pcap or pcapng file", r.Error);
        Assert.Contains("not a capture file", CaptureReader.Read([1, 2]).Error);
    }

    [Fact]
    public void Mutated_files_never_throw_or_hang()
    {
        var rng = new Random(5);
        var seeds = new[] { PcapNg(6), Pcap(true, true, LinkType.Ethernet, [.. new byte[12], 0x08, 0x00, .. TcpPacketBytes(1)]) };
        for (int i = 0; i < 20_000; i++)
        {
            var f = (byte[])seeds[rng.Next(seeds.Length)].Clone();
            for (int k = rng.Next(1, 8); k > 0; k--) f[rng.Next(f.Length)] = (byte)rng.Next(256);
            if (rng.Next(4) == 0) f = f[..rng.Next(f.Length)];
            var r = CaptureReader.Read(f);
            foreach (var p in r.Packets)
            {
                _ = p.IpOffset;
                TcpPacket.TryParse(p.Ip, out _, out _, out _);
            }
        }
    }
}
