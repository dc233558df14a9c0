using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>The cookie itself: SipHash against its reference vectors, and what a cookie remembers, for how long, for whom.</summary>
public sealed class SynCookiesTests
{
    private static readonly FourTuple Tuple = new(IpAddr.Parse("192.0.2.2"), 80, IpAddr.Parse("192.0.2.1"), 40000);
    private static readonly SynCookies Cookies = new("a secret of thirty-two bytes!!!!"u8);

    [Fact]
    public void SipHash_2_4_gives_the_reference_implementation_s_outputs()
    {
        // Key 00 01 .. 0f; the paper's vectors for the empty message and for 00 01 .. 0e.
        ulong k0 = 0x0706050403020100UL, k1 = 0x0f0e0d0c0b0a0908UL;
        Assert.Equal(0x726fdb47dd0e0e31UL, SipHash.Hash(k0, k1, []));
        var fifteen = Enumerable.Range(0, 15).Select(i => (byte)i).ToArray();
        Assert.Equal(0xa129ca6149be45e5UL, SipHash.Hash(k0, k1, fifteen));
    }

    [Theory]
    [InlineData(1460, 1460)]
    [InlineData(1500, 1460)]
    [InlineData(1440, 1440)]
    [InlineData(1400, 1300)]
    [InlineData(536, 536)]
    [InlineData(100, 536)] // below the table: its smallest, as Linux
    public void A_cookie_brings_back_the_largest_table_mss_not_above_the_peer_s(int offered, int expected)
    {
        var now = TimeSpan.FromMinutes(10);
        var cookie = Cookies.Create(in Tuple, new SeqNum(12345), offered, now, out var mss);
        Assert.Equal(expected, mss);
        Assert.True(Cookies.TryCheck(in Tuple, new SeqNum(12345), cookie, now + TimeSpan.FromSeconds(1), out var back));
        Assert.Equal(expected, back);
    }

    [Fact]
    public void A_cookie_is_good_for_another_tuple_or_client_isn_never_and_after_two_minutes_never()
    {
        var made = TimeSpan.FromMinutes(10) + TimeSpan.FromSeconds(59);
        var cookie = Cookies.Create(in Tuple, new SeqNum(7), 1460, made, out _);
        Assert.True(Cookies.TryCheck(in Tuple, new SeqNum(7), cookie, made + TimeSpan.FromSeconds(1), out _)); // the next minute: still good
        Assert.False(Cookies.TryCheck(in Tuple, new SeqNum(7), cookie, made + TimeSpan.FromMinutes(2), out _));
        // Far-off numbers: one apart would shift the MSS index, which Linux's encoding (and ours) allows.
        Assert.False(Cookies.TryCheck(in Tuple, new SeqNum(7 + 1000), cookie, made, out _));
        Assert.False(Cookies.TryCheck(Tuple with { RemotePort = 40001 }, new SeqNum(7), cookie, made, out _));
        Assert.False(Cookies.TryCheck(in Tuple, new SeqNum(7), cookie + 1000, made, out _));
        var otherHost = new SynCookies("another secret of thirty-two b!!"u8);
        Assert.False(otherHost.TryCheck(in Tuple, new SeqNum(7), cookie, made, out _));
    }

    [Fact]
    public void Random_guesses_pass_about_as_often_as_the_four_in_two_to_the_twenty_four_the_encoding_allows()
    {
        var rng = new Random(4);
        int passed = 0;
        for (int i = 0; i < 200_000; i++)
            if (Cookies.TryCheck(in Tuple, new SeqNum((uint)rng.NextInt64(1L << 32)), new SeqNum((uint)rng.NextInt64(1L << 32)), TimeSpan.FromMinutes(10), out _)) passed++;
        // Expected 200,000 × 2 ages × 4 indexes / 2^32 ≈ 0.0004: any pass at all would say the hash leaks.
        Assert.Equal(0, passed);
    }

    [Theory]
    [InlineData(7, true, true)]
    [InlineData(0, false, false)]
    [InlineData(14, true, false)]
    [InlineData(null, false, true)]
    public void The_timestamp_remembers_window_scale_sack_and_ecn_and_never_runs_ahead(int? shift, bool sack, bool ecn)
    {
        foreach (uint now in new uint[] { 0, 63, 64, 1_000_000, uint.MaxValue })
        {
            uint ts = SynCookies.EncodeTimestamp(now, shift is int s ? (byte)s : null, sack, ecn);
            Assert.True(unchecked((int)(now - ts)) is >= 0 and < 64, $"TSval {ts} for clock {now}");
            SynCookies.DecodeTimestamp(ts, out var backShift, out bool backSack, out bool backEcn);
            Assert.Equal(shift, backShift is byte b ? b : null);
            Assert.Equal((sack, ecn), (backSack, backEcn));
        }
    }
}
