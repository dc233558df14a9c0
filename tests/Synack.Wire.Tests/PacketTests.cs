namespace Synack.Wire.Tests;

public class PacketTests
{
    private static readonly IpAddr V4A = IpAddr.Parse("192.0.2.1");
    private static readonly IpAddr V4B = IpAddr.Parse("192.0.2.2");
    private static readonly IpAddr V6A = IpAddr.Parse("2001:db8::1");
    private static readonly IpAddr V6B = IpAddr.Parse("2001:db8::2");

    private static byte[] Build(IpAddr src, IpAddr dst, byte[] payload)
    {
        var h = new TcpHeader
        {
            SourcePort = 1234,
            DestinationPort = 80,
            Seq = new SeqNum(1),
            Ack = new SeqNum(2),
            Flags = TcpFlags.Ack | TcpFlags.Psh,
            Window = 1000,
        };
        h.Options.HasTimestamps = true;
        h.Options.TsVal = 5;
        var buf = new byte[TcpPacket.MaxLength(payload.Length)];
        int n = TcpPacket.Write(buf, src, dst, in h, TcpOptionLayout.Established, payload);
        return buf[..n];
    }

    [Theory]
    [InlineData(false, EcnCodepoint.Ect0, 1, 0x02)]
    [InlineData(false, EcnCodepoint.Ce, 1, 0x03)]
    [InlineData(true, EcnCodepoint.Ect0, 1, 0x20)] // traffic class 0x02 straddles bytes 0 and 1
    [InlineData(true, EcnCodepoint.Ce, 1, 0x30)]
    public void The_ecn_field_goes_into_the_ip_header_and_comes_back(bool v6, EcnCodepoint ecn, int offset, int expected)
    {
        var h = new TcpHeader { SourcePort = 1, DestinationPort = 2, Flags = TcpFlags.Ack, Ecn = ecn };
        var buf = new byte[TcpPacket.MaxLength(0)];
        int n = TcpPacket.Write(buf, v6 ? V6A : V4A, v6 ? V6B : V4B, in h, TcpOptionLayout.Established, default);
        Assert.Equal(expected, buf[offset]);
        Assert.True(TcpPacket.TryParse(buf.AsSpan(0, n), out var ip, out var tcp, out _));
        Assert.Equal(ecn, ip.Ecn);
        Assert.Equal(ecn, tcp.Ecn);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Dscp_and_hop_limit_go_into_the_ip_header_beside_ecn(bool v6)
    {
        var h = new TcpHeader { SourcePort = 1, DestinationPort = 2, Flags = TcpFlags.Ack, Ecn = EcnCodepoint.Ect0, Dscp = 0x38, HopLimit = 7 }; // CS7
        var buf = new byte[TcpPacket.MaxLength(0)];
        int n = TcpPacket.Write(buf, v6 ? V6A : V4A, v6 ? V6B : V4B, in h, TcpOptionLayout.Established, default);
        if (v6) Assert.Equal((0x6e, 0x20), (buf[0], buf[1])); // traffic class 0xe2 across the version nibble and byte 1
        else Assert.Equal(0xe2, buf[1]);
        Assert.True(TcpPacket.TryParse(buf.AsSpan(0, n), out var ip, out var tcp, out _));
        Assert.Equal((0x38, EcnCodepoint.Ect0, 7), (ip.Dscp, ip.Ecn, ip.HopLimit));
        Assert.Equal((0x38, (byte)7), (tcp.Dscp, tcp.HopLimit));
    }

    [Fact]
    public void The_checksum_of_RFC_1071s_example_is_right()
    {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (one's complement 220d).
        byte[] data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        Assert.Equal(0x220d, InternetChecksum.Compute(data));
    }

    [Fact]
    public void Odd_length_data_is_padded_with_a_zero_byte()
    {
        Assert.Equal(InternetChecksum.Compute([0x12, 0x34, 0x56, 0x00]), InternetChecksum.Compute([0x12, 0x34, 0x56]));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Ipv4_and_ipv6_packets_round_trip_with_good_checksums(bool v6)
    {
        var (src, dst) = v6 ? (V6A, V6B) : (V4A, V4B);
        var payload = "hello, world"u8.ToArray();
        var packet = Build(src, dst, payload);
        Assert.True(TcpPacket.TryParse(packet, out var ip, out var tcp, out var err), err.Describe());
        Assert.Equal(src, ip.Source);
        Assert.Equal(dst, ip.Destination);
        Assert.Equal(v6 ? 40 : 20, ip.HeaderLength);
        Assert.Equal(32, tcp.HeaderLength);
        Assert.Equal(payload, TcpPacket.Payload(packet, ip, tcp).ToArray());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_flipped_payload_bit_is_a_bad_checksum(bool v6)
    {
        var (src, dst) = v6 ? (V6A, V6B) : (V4A, V4B);
        var packet = Build(src, dst, "data"u8.ToArray());
        packet[^1] ^= 0x01;
        Assert.False(TcpPacket.TryParse(packet, out _, out _, out var err));
        Assert.Equal(ParseError.BadChecksum, err);
    }

    [Fact]
    public void The_pseudo_header_covers_the_addresses()
    {
        var packet = Build(V4A, V4B, "data"u8.ToArray());
        packet[19] ^= 0x01; // destination address changes...
        // ...and the IP header checksum is made right again, so only the TCP checksum can notice.
        packet[10] = 0; packet[11] = 0;
        var sum = InternetChecksum.Compute(packet.AsSpan(0, 20));
        packet[10] = (byte)(sum >> 8); packet[11] = (byte)sum;
        Assert.False(TcpPacket.TryParse(packet, out _, out _, out var err));
        Assert.Equal(ParseError.BadChecksum, err);
    }

    [Fact]
    public void Truncated_and_malformed_ip_gives_a_reason()
    {
        var packet = Build(V4A, V4B, "data"u8.ToArray());
        Assert.False(IpHeader.TryParse(packet.AsSpan(0, 10), out _, out var err));
        Assert.Equal(ParseError.IpTruncated, err);
        Assert.False(IpHeader.TryParse(packet.AsSpan(0, packet.Length - 1), out _, out err));
        Assert.Equal(ParseError.IpTruncated, err);

        var bad = (byte[])packet.Clone();
        bad[0] = 0x44; // IHL 4 words
        Assert.False(IpHeader.TryParse(bad, out _, out err));
        Assert.Equal(ParseError.Ipv4HeaderLengthInvalid, err);

        bad = (byte[])packet.Clone();
        bad[8] ^= 0xFF; // TTL changed, header checksum now wrong
        Assert.False(IpHeader.TryParse(bad, out _, out err));
        Assert.Equal(ParseError.Ipv4BadHeaderChecksum, err);

        bad = (byte[])packet.Clone();
        bad[0] = 0x55;
        Assert.False(IpHeader.TryParse(bad, out _, out err));
        Assert.Equal(ParseError.IpVersionUnknown, err);

        var v6 = Build(V6A, V6B, "data"u8.ToArray());
        Assert.False(IpHeader.TryParse(v6.AsSpan(0, 39), out _, out err));
        Assert.Equal(ParseError.IpTruncated, err);
        Assert.False(IpHeader.TryParse(v6.AsSpan(0, v6.Length - 2), out _, out err));
        Assert.Equal(ParseError.Ipv6PayloadLengthInvalid, err);
    }

    [Fact]
    public void Trailing_link_padding_is_ignored()
    {
        var packet = Build(V4A, V4B, "x"u8.ToArray());
        var padded = packet.Concat(new byte[6]).ToArray();
        Assert.True(TcpPacket.TryParse(padded, out var ip, out var tcp, out _));
        Assert.Equal(1, TcpPacket.Payload(padded, ip, tcp).Length);
    }

    [Fact]
    public void Addresses_print_and_parse_both_families()
    {
        Assert.Equal("192.0.2.1", V4A.ToString());
        Assert.Equal("2001:db8::1", V6A.ToString());
        Assert.False(V4A.IsV6);
        Assert.True(V6A.IsV6);
    }

    /// <summary>
    /// 100,000 random and mutated packets: the parsers return true or a reason, never throw, and
    /// never report a payload outside the buffer.
    /// </summary>
    [Fact]
    public void Random_and_mutated_packets_never_throw()
    {
        var rng = new Random(20261125);
        var seeds = new[] { Build(V4A, V4B, new byte[50]), Build(V6A, V6B, new byte[7]), Build(V4A, V4B, []) };
        int parsed = 0, rejected = 0;
        for (int i = 0; i < 100_000; i++)
        {
            byte[] p;
            if (i % 4 == 0)
            {
                p = new byte[rng.Next(0, 120)];
                rng.NextBytes(p);
                if (p.Length > 0) p[0] = (byte)((rng.Next(2) == 0 ? 0x40 : 0x60) | (p[0] & 0x0F));
            }
            else
            {
                p = (byte[])seeds[rng.Next(seeds.Length)].Clone();
                int flips = rng.Next(1, 6);
                for (int f = 0; f < flips; f++) p[rng.Next(p.Length)] = (byte)rng.Next(256);
                if (rng.Next(5) == 0) p = p[..rng.Next(p.Length + 1)];
            }
            if (TcpPacket.TryParse(p, out var ip, out var tcp, out var err, verifyChecksum: rng.Next(2) == 0))
            {
                parsed++;
                var payload = TcpPacket.Payload(p, ip, tcp);
                Assert.True(payload.Length >= 0 && ip.HeaderLength + tcp.HeaderLength + payload.Length <= p.Length);
                Assert.InRange(tcp.Options.SackBlockCount, 0, TcpOptions.MaxSackBlocks);
            }
            else
            {
                rejected++;
                Assert.NotEqual(ParseError.None, err);
                Assert.False(string.IsNullOrEmpty(err.Describe()));
            }
            TcpOptionText.Describe(p);
        }
        Assert.True(parsed > 100 && rejected > 10_000, $"parsed {parsed}, rejected {rejected}");
    }
}
