namespace Synack.Wire.Tests;

public class TcpHeaderTests
{
    private static TcpHeader SampleSyn()
    {
        var h = new TcpHeader
        {
            SourcePort = 40000,
            DestinationPort = 80,
            Seq = new SeqNum(123456),
            Flags = TcpFlags.Syn,
            Window = 65535,
        };
        h.Options.HasMss = true;
        h.Options.Mss = 1460;
        h.Options.HasWindowScale = true;
        h.Options.WindowScale = 7;
        h.Options.SackPermitted = true;
        h.Options.HasTimestamps = true;
        h.Options.TsVal = 0xDEADBEEF;
        h.Options.TsEcr = 0;
        return h;
    }

    [Fact]
    public void Every_option_round_trips()
    {
        var h = SampleSyn();
        var buf = new byte[60];
        int len = TcpHeader.Write(buf, in h, TcpOptionLayout.Linux);
        Assert.Equal(40, len); // 20 + 20 bytes of options: Linux's SYN
        Assert.True(TcpHeader.TryParse(buf.AsSpan(0, len), out var p, out var err), err.Describe());
        Assert.Equal(40000, p.SourcePort);
        Assert.Equal(80, p.DestinationPort);
        Assert.Equal(new SeqNum(123456), p.Seq);
        Assert.Equal(TcpFlags.Syn, p.Flags);
        Assert.Equal(65535, p.Window);
        Assert.True(p.Options.HasMss);
        Assert.Equal(1460, p.Options.Mss);
        Assert.Equal(7, p.Options.WindowScale);
        Assert.True(p.Options.SackPermitted);
        Assert.Equal(0xDEADBEEFu, p.Options.TsVal);
        Assert.Equal(0, p.Options.UnknownCount);
    }

    [Theory]
    [InlineData("linux", "mss 1460,sackOK,TS val 3735928559 ecr 0,nop,wscale 7")]
    [InlineData("freebsd", "mss 1460,nop,wscale 7,sackOK,TS val 3735928559 ecr 0")]
    public void Syn_layouts_write_options_in_their_order(string layout, string expected)
    {
        var h = SampleSyn();
        var buf = new byte[60];
        int len = TcpHeader.Write(buf, in h, TcpOptionLayout.FromName(layout)!);
        Assert.Equal(expected, TcpOptionText.DescribeOptions(buf.AsSpan(20, len - 20)));
    }

    [Theory]
    [InlineData(true, true, true, "mss 1460,nop,wscale 7,sackOK,TS val 3735928559 ecr 0", 40)]
    [InlineData(true, false, true, "mss 1460,nop,wscale 7,nop,nop,TS val 3735928559 ecr 0", 40)]
    [InlineData(false, false, true, "mss 1460,nop,nop,TS val 3735928559 ecr 0", 36)]
    [InlineData(false, true, false, "mss 1460,sackOK,eol", 28)]
    [InlineData(true, true, false, "mss 1460,nop,wscale 7,sackOK,eol", 32)]
    public void The_freebsd_layout_places_nops_by_bsd_alignment(bool ws, bool sack, bool ts, string expected, int headerLength)
    {
        var h = SampleSyn();
        h.Options.HasWindowScale = ws;
        h.Options.SackPermitted = sack;
        h.Options.HasTimestamps = ts;
        var buf = new byte[60];
        int len = TcpHeader.Write(buf, in h, TcpOptionLayout.FreeBsd);
        Assert.Equal(headerLength, len);
        Assert.Equal(expected, TcpOptionText.DescribeOptions(buf.AsSpan(20, len - 20)));
    }

    [Fact]
    public void The_study_note_layout_gives_its_32_byte_header()
    {
        var h = SampleSyn();
        h.Options.HasTimestamps = false;
        var buf = new byte[60];
        int len = TcpHeader.Write(buf, in h, TcpOptionLayout.StudyNote);
        Assert.Equal(32, len);
        Assert.Equal("mss 1460,nop,wscale 7,nop,nop,sackOK", TcpOptionText.DescribeOptions(buf.AsSpan(20, 12)));
    }

    [Fact]
    public void Sack_blocks_round_trip_and_are_cut_to_fit_beside_timestamps()
    {
        var h = new TcpHeader { Flags = TcpFlags.Ack };
        h.Options.HasTimestamps = true;
        h.Options.TsVal = 1;
        for (uint i = 0; i < 4; i++) h.Options.AddSackBlock(new SackBlock(new SeqNum(1000 * i), new SeqNum(1000 * i + 500)));
        var buf = new byte[60];
        int len = TcpHeader.Write(buf, in h, TcpOptionLayout.Established);
        Assert.True(len <= 60);
        Assert.True(TcpHeader.TryParse(buf.AsSpan(0, len), out var p, out _));
        Assert.True(p.Options.HasTimestamps);
        Assert.Equal(3, p.Options.SackBlockCount); // 12 + 2 + 3*8 = 38 of 40 bytes
        Assert.Equal(new SackBlock(new SeqNum(2000), new SeqNum(2500)), p.Options.SackBlocks[2]);

        h.Options.HasTimestamps = false;
        len = TcpHeader.Write(buf, in h, TcpOptionLayout.Established);
        Assert.True(TcpHeader.TryParse(buf.AsSpan(0, len), out p, out _));
        Assert.Equal(4, p.Options.SackBlockCount);
    }

    [Fact]
    public void Unknown_options_are_skipped_by_their_length()
    {
        byte[] seg = Header(dataOffsetWords: 8, options: [0xFE, 6, 1, 2, 3, 4, 2, 4, 0x05, 0xB4, 1, 0]);
        Assert.True(TcpHeader.TryParse(seg, out var p, out _));
        Assert.Equal(1, p.Options.UnknownCount);
        Assert.Equal(1460, p.Options.Mss);
    }

    [Fact]
    public void A_known_option_with_the_wrong_length_is_skipped()
    {
        byte[] seg = Header(dataOffsetWords: 7, options: [2, 3, 5, 1, 1, 1, 1, 0]);
        Assert.True(TcpHeader.TryParse(seg, out var p, out _));
        Assert.False(p.Options.HasMss);
        Assert.Equal(1, p.Options.UnknownCount);
    }

    [Theory]
    [InlineData(new byte[] { 2, 0, 0, 0 }, ParseError.TcpOptionLengthInvalid)]
    [InlineData(new byte[] { 2, 1, 0, 0 }, ParseError.TcpOptionLengthInvalid)]
    [InlineData(new byte[] { 1, 1, 8, 10 }, ParseError.TcpOptionPastHeader)]
    [InlineData(new byte[] { 1, 1, 1, 8 }, ParseError.TcpOptionPastHeader)]
    public void Hostile_option_lengths_give_a_reason(byte[] options, ParseError expected)
    {
        byte[] seg = Header(dataOffsetWords: 6, options: options);
        Assert.False(TcpHeader.TryParse(seg, out _, out var err));
        Assert.Equal(expected, err);
    }

    [Fact]
    public void Short_header_and_bad_data_offsets_give_a_reason()
    {
        Assert.False(TcpHeader.TryParse(new byte[19], out _, out var err));
        Assert.Equal(ParseError.TcpHeaderTooShort, err);

        var seg = Header(dataOffsetWords: 5, options: []);
        seg[12] = 4 << 4;
        Assert.False(TcpHeader.TryParse(seg, out _, out err));
        Assert.Equal(ParseError.TcpDataOffsetTooSmall, err);

        seg[12] = 15 << 4;
        Assert.False(TcpHeader.TryParse(seg, out _, out err));
        Assert.Equal(ParseError.TcpDataOffsetPastPacket, err);
    }

    [Fact]
    public void Flags_print_as_tcpdump_and_zeek_spell_them()
    {
        Assert.Equal("S", TcpFlags.Syn.ToShortString());
        Assert.Equal("SA", (TcpFlags.Syn | TcpFlags.Ack).ToShortString());
        Assert.Equal("FA", (TcpFlags.Fin | TcpFlags.Ack).ToShortString());
        Assert.Equal(".", TcpFlags.Ack.ToShortString());
        Assert.Equal("PA", (TcpFlags.Psh | TcpFlags.Ack).ToShortString());
        Assert.Equal("R", TcpFlags.Rst.ToShortString());
    }

    internal static byte[] Header(int dataOffsetWords, byte[] options)
    {
        var seg = new byte[dataOffsetWords * 4];
        seg[12] = (byte)(dataOffsetWords << 4);
        options.AsSpan(0, Math.Min(options.Length, seg.Length - 20)).CopyTo(seg.AsSpan(20));
        return seg;
    }
}
