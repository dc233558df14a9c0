using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>HyStart++ (RFC 9406) alone: rounds of ACKs with the round trips a test chooses.</summary>
public class HyStartPlusPlusTests
{
    private const uint Mss = 1000;
    private readonly HyStartPlusPlus _hs = new();
    private uint _ack = 1000, _nxt = 1000 + 10 * Mss; // an initial window of ten segments in flight

    /// <summary>
    /// One round as HyStart++ counts it: from the ACK that covers what was in flight when the last
    /// round began, up to the ACK before the one that covers what is in flight now. Each ACK measures
    /// <paramref name="rttMs"/>, and (slow start's clock) two new segments go out per ACK. Returns the
    /// growth allowed and the ACKs.
    /// </summary>
    private (uint Grown, uint Acks) Round(double rttMs)
    {
        uint grown = 0, acks = 0;
        uint end = 0;
        do
        {
            _ack += Mss;
            grown += _hs.OnAck(Mss, new SeqNum(_ack), TimeSpan.FromMilliseconds(rttMs), new SeqNum(_nxt));
            if (acks++ == 0) end = _nxt;
            _nxt += 2 * Mss;
        }
        while (_ack + Mss < end);
        return (grown, acks);
    }

    [Fact]
    public void A_steady_round_trip_keeps_slow_start_at_full_speed()
    {
        for (int r = 0; r < 8; r++)
        {
            var (grown, acks) = Round(20);
            Assert.Equal(acks * Mss, grown);
        }
        Assert.False(_hs.InCss);
        Assert.False(_hs.ExitSlowStart);
    }

    [Fact]
    public void A_rising_round_trip_slows_growth_to_a_quarter_and_five_rounds_later_ends_slow_start()
    {
        Round(20);
        Round(20);
        Round(25); // up 5 ms: more than max(4 ms, 20/8 ms)
        Assert.True(_hs.InCss);
        var (cssGrowth, cssAcks) = Round(25);
        Assert.Equal(cssAcks * Mss / 4, cssGrowth);
        // The ACK that completes a round's data opens the next: the round CSS began in counts as its first.
        for (int r = 0; r < 3; r++) Round(25);
        Assert.False(_hs.ExitSlowStart);
        Round(25);
        Assert.True(_hs.ExitSlowStart);
    }

    [Fact]
    public void A_rise_under_the_threshold_is_noise_and_a_fall_below_the_css_baseline_resumes_slow_start()
    {
        Round(20);
        Round(23); // 3 ms: under the 4 ms floor
        Assert.False(_hs.InCss);
        Round(30); // up 7 ms on 23
        Assert.True(_hs.InCss);
        Round(22); // below the 30 ms CSS began at: the queue was not ours
        Assert.False(_hs.InCss);
        var (grown, acks) = Round(22);
        Assert.Equal(acks * Mss, grown);
    }
}
