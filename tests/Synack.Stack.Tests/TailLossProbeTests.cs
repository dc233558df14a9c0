using Synack.Tcp;

namespace Synack.Stack.Tests;

/// <summary>
/// RFC 8985's tail loss probe on the simulated link: the last segments of a write are lost, so no
/// duplicate ACK can come back to start fast retransmit. Two round trips later the probe resends the
/// last segment; its ACK (with SACK) brings the rest back without the retransmission timer.
/// </summary>
public sealed class TailLossProbeTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private const int Segments = 10;

    private (TimeSpan Elapsed, Connection Sender) Transfer(bool probe, int lostAtTheEnd) => OneTransfer.Run(
        ConnectionOptions.Default with { TailLossProbe = probe },
        bytes: Segments * 1448, // ten full segments (1460 less the timestamp option)
        dropDataSegment: n => n >= Segments - lostAtTheEnd && n < Segments, // only the first copies
        log: probe ? output.WriteLine : null);

    [Fact]
    public void A_lost_last_segment_is_resent_by_a_probe_in_the_timers_place_and_the_window_is_cut_not_collapsed()
    {
        // With one segment left to acknowledge the probe waits out the peer's delayed ACK too, so it is
        // due after the retransmission timer and goes in its place (as Linux): the same moment, but a
        // repaired loss (window × 0.7) instead of a timeout (window back to one segment).
        var (with, sender) = Transfer(probe: true, lostAtTheEnd: 1);
        var (without, timedOut) = Transfer(probe: false, lostAtTheEnd: 1);
        Assert.Equal(1, sender.TailLossProbes);
        Assert.Equal(1, sender.RetransmittedSegments);
        Assert.True(with <= without, $"with the probe {with}, without {without}");
        Assert.True(sender.CongestionWindow >= 5 * 1448, $"after the probe: {sender.CongestionWindow} bytes");
        Assert.True(timedOut.CongestionWindow <= 2 * 1448, $"after the timeout: {timedOut.CongestionWindow} bytes");
    }

    [Fact]
    public void When_the_last_three_segments_are_lost_the_probe_brings_a_sack_and_recovery_resends_the_rest_before_the_timer()
    {
        var (with, sender) = Transfer(probe: true, lostAtTheEnd: 3);
        var (without, _) = Transfer(probe: false, lostAtTheEnd: 3);
        Assert.Equal(1, sender.TailLossProbes);
        Assert.Equal(3, sender.RetransmittedSegments); // the probe (the last), then the two below it in recovery
        // 20 ms round trips: the probe two smoothed RTTs after the last ACK, the timer at least 200 ms after it.
        Assert.True(with + TimeSpan.FromMilliseconds(80) < without, $"with the probe {with}, without {without}");
    }
}
