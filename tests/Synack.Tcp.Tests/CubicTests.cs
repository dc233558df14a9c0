namespace Synack.Tcp.Tests;

/// <summary>
/// CUBIC alone, driven by an ACK clock of one ACK per segment and a fixed RTT: after a loss the window
/// follows RFC 9438's W_cubic(t) = C·(t − K)³ + W_max, flat at W_max when t = K.
/// </summary>
public class CubicTests
{
    private const int Mss = 1000;
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(100);

    private static Cubic Started()
    {
        var cc = new Cubic(initialWindowSegments: 10, sendBufferSize: 64 << 20);
        cc.Start(Mss);
        return cc;
    }

    /// <summary>Runs round trips of a full window each; returns the window (in segments) after each, with its time since the first.</summary>
    private static List<(double T, double Segments)> RoundTrips(Cubic cc, TimeSpan start, int rounds)
    {
        var samples = new List<(double, double)>();
        var now = start;
        for (int r = 0; r < rounds; r++)
        {
            uint acks = cc.Window / Mss;
            for (uint i = 0; i < acks; i++) cc.OnAck(new AckSample(Mss, now, Rtt, null, default, default));
            samples.Add(((now - start).TotalSeconds, cc.Window / (double)Mss));
            now += Rtt;
        }
        return samples;
    }

    private static Cubic AfterLossAt(int segments, out TimeSpan now)
    {
        var cc = Started();
        now = TimeSpan.FromSeconds(1);
        while (cc.Window < segments * Mss) cc.OnAck(new AckSample(Mss, now, Rtt, null, default, default)); // slow start up to the loss
        cc.OnFastRetransmit((uint)(segments * Mss), now);
        cc.OnRecoveryEnd(flight: (uint)(segments * Mss * Cubic.Beta), now);
        return cc;
    }

    [Fact]
    public void A_loss_cuts_the_window_to_seven_tenths_and_sets_k_from_w_max()
    {
        var cc = AfterLossAt(100, out _);
        Assert.Equal(70u * Mss, cc.SlowStartThreshold);
        Assert.Equal(70u * Mss, cc.Window);
        Assert.Equal(100, cc.WMax, 3);
        RoundTrips(cc, TimeSpan.FromSeconds(2), 1); // the first ACK after the cut starts the epoch
        Assert.Equal(Math.Cbrt(100 * (1 - Cubic.Beta) / Cubic.C), cc.K, 3); // ∛75 ≈ 4.22 s
    }

    [Fact]
    public void The_window_follows_the_cubic_curve_concave_to_w_max_flat_there_then_convex()
    {
        var cc = AfterLossAt(100, out var now);
        var samples = RoundTrips(cc, now + Rtt, rounds: 90);
        double k = cc.K;
        foreach (var (t, w) in samples.Where(s => s.T >= 0.5))
        {
            // The sender aims one RTT ahead: the window sits near W(t + RTT), never far from the curve.
            double expected = Cubic.C * Math.Pow(t + Rtt.TotalSeconds - k, 3) + 100;
            Assert.InRange(w, expected * 0.95, expected * 1.05);
        }
        double Near(double t) => samples.MinBy(s => Math.Abs(s.T - t)).Segments;
        Assert.InRange(Near(k), 98, 103);                               // the plateau: back at W_max after K seconds
        Assert.True(Near(k / 2) - 70 > 100 - Near(k / 2), "concave: most of the way back in the first half");
        Assert.True(Near(2 * k) > 125, $"convex beyond W_max: {Near(2 * k):F1} segments at 2K");
    }

    [Fact]
    public void A_loss_before_the_old_maximum_is_reached_again_lowers_w_max_fast_convergence()
    {
        var cc = AfterLossAt(100, out var now);
        RoundTrips(cc, now + Rtt, rounds: 10); // about 90 segments, short of 100
        double before = cc.Window / (double)Mss;
        cc.OnFastRetransmit(cc.Window, now + TimeSpan.FromSeconds(2));
        Assert.Equal(before * (1 + Cubic.Beta) / 2, cc.WMax, 3);
    }

    [Fact]
    public void With_short_round_trips_the_reno_friendly_estimate_keeps_the_window_growing_at_least_as_reno()
    {
        var cc = Started();
        var now = TimeSpan.FromSeconds(1);
        var shortRtt = TimeSpan.FromMilliseconds(1);
        while (cc.Window < 20 * Mss) cc.OnAck(new AckSample(Mss, now, shortRtt, null, default, default));
        cc.OnFastRetransmit(20 * Mss, now);
        cc.OnRecoveryEnd(14 * Mss, now);
        // 100 round trips of 1 ms: the cubic curve has hardly moved (K ≈ 2.5 s); Reno's +0.53 segment per RTT has.
        for (int r = 0; r < 100; r++)
        {
            uint acks = cc.Window / Mss;
            for (uint i = 0; i < acks; i++) cc.OnAck(new AckSample(Mss, now, shortRtt, null, default, default));
            now += shortRtt;
        }
        Assert.True(cc.Window / (double)Mss > 14 + 0.5 * 100 * 0.9, $"{cc.Window / (double)Mss:F1} segments");
    }
}
