namespace Synack.Tcp.Tests;

/// <summary>The congestion controller alone, in bytes, as RFC 5681 and RFC 6582 write it down.</summary>
public class NewRenoTests
{
    private const int Mss = 1000;
    // NewReno counts ACKs, not time: any instant and RTT will do.
    private static readonly TimeSpan T = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(20);

    private static NewReno Started(int bufferSize = 1 << 20)
    {
        var cc = new NewReno(initialWindowSegments: 10, sendBufferSize: bufferSize);
        cc.Start(Mss);
        return cc;
    }

    [Fact]
    public void It_starts_at_the_initial_window_in_slow_start()
    {
        var cc = Started();
        Assert.Equal(10u * Mss, cc.Window);
        Assert.Equal(uint.MaxValue, cc.SlowStartThreshold);
    }

    [Fact]
    public void Slow_start_grows_by_at_most_one_segment_per_ack_and_avoidance_by_about_one_per_window()
    {
        var cc = Started();
        cc.OnAck(new AckSample(3 * Mss, T, Rtt, null, default, default)); // a stretch ACK still counts one segment (RFC 5681 3.1, L = 1 SMSS)
        Assert.Equal(11u * Mss, cc.Window);
        cc.OnRetransmissionTimeout(20 * Mss, T);
        Assert.Equal(10u * Mss, cc.SlowStartThreshold);
        Assert.Equal((uint)Mss, cc.Window);
        for (int i = 0; i < 9; i++) cc.OnAck(new AckSample(Mss, T, Rtt, null, default, default));
        Assert.Equal(10u * Mss, cc.Window);
        cc.OnAck(new AckSample(Mss, T, Rtt, null, default, default)); // now in congestion avoidance: MSS*MSS/cwnd
        Assert.Equal(10u * Mss + Mss / 10, cc.Window);
    }

    [Fact]
    public void Fast_recovery_halves_inflates_deflates_and_ends_at_ssthresh()
    {
        var cc = Started();
        cc.OnFastRetransmit(flight: 20 * Mss, T);
        Assert.Equal(10u * Mss, cc.SlowStartThreshold);
        Assert.Equal(13u * Mss, cc.Window); // ssthresh + 3 segments that left the network
        cc.OnDuplicateAckInRecovery();
        Assert.Equal(14u * Mss, cc.Window);
        cc.OnPartialAck(5 * Mss);
        Assert.Equal(10u * Mss, cc.Window); // 14 - 5 + 1
        cc.OnRecoveryEnd(flight: 2 * Mss, T);
        Assert.Equal(3u * Mss, cc.Window); // min(ssthresh, flight + 1 segment)
    }

    [Fact]
    public void A_loss_never_halves_below_two_segments_and_the_window_stays_within_twice_the_buffer()
    {
        var cc = Started(bufferSize: 8 * Mss);
        cc.OnCongestionEcho(flight: Mss, T);
        Assert.Equal(2u * Mss, cc.SlowStartThreshold);
        Assert.Equal(2u * Mss, cc.Window);
        for (int i = 0; i < 10_000; i++) cc.OnAck(new AckSample(Mss, T, Rtt, null, default, default));
        Assert.Equal(16u * Mss, cc.Window);
    }
}
