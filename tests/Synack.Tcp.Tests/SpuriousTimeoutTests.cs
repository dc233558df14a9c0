using Synack.Simulation;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// A delay spike longer than the RTO: the timer fires though nothing was lost. The ACKs that then
/// arrive echo timestamps from before the retransmission (RFC 3522), so the timeout is undone: the
/// window goes back to what it was instead of starting again from one segment.
/// </summary>
public class SpuriousTimeoutTests
{
    private static (Connection Sender, uint CwndBefore, uint CwndAfter) DelaySpike(ConnectionOptions options, int queueLimit = 1000, int spikeMs = 600)
    {
        var t = new OneWayTransfer(options, new LinkConditions { Latency = TimeSpan.FromMilliseconds(10), RateBytesPerSecond = 12_500_000, QueueLimit = queueLimit }, 16 << 20, seed: 3);
        var sim = t.Sim;
        sim.RunFor(TimeSpan.FromMilliseconds(300)); // slow start has opened the window
        uint before = t.Sender.CongestionWindow;
        // The path stalls for longer than the RTO (about 220 ms with the default queue): every ACK
        // is held, then all are delivered in order — nothing is lost.
        bool stalled = true;
        sim.Link.Hold(s => stalled && s.From == "server" && s.Length == 0, times: int.MaxValue);
        sim.RunFor(TimeSpan.FromMilliseconds(spikeMs));
        stalled = false;
        sim.Link.ReleaseHeld();
        sim.RunFor(TimeSpan.FromMilliseconds(400));
        uint after = t.Sender.CongestionWindow;
        t.Finish(TimeSpan.FromMinutes(2));
        return (t.Sender, before, after);
    }

    [Fact]
    public void A_timeout_the_acks_prove_spurious_is_undone_and_the_window_restored()
    {
        // Fixed 256 KiB buffers: the flight stays under the link's queue, so nothing is really lost.
        var fixedBuffers = ConnectionOptions.Default with { ReceiveBufferMax = null, SendBufferMax = null };
        var undone = DelaySpike(fixedBuffers);
        var kept = DelaySpike(fixedBuffers with { UndoSpuriousTimeouts = false, ForwardRtoRecovery = false });

        Assert.True(undone.Sender.RetransmittedSegments > 0, "the timer never fired: the spike was too short to test anything");
        Assert.Equal(1, undone.Sender.SpuriousTimeouts);
        Assert.True(undone.CwndAfter >= undone.CwndBefore, $"window {undone.CwndBefore} before the spike, {undone.CwndAfter} after");
        Assert.Equal(0, kept.Sender.SpuriousTimeouts);
        Assert.True(kept.CwndAfter < kept.CwndBefore, $"without the undo the window was cut: {kept.CwndBefore} -> {kept.CwndAfter}");
        // And the whole flight went again (go-back-N), where the undo resent only the timer's segment.
        Assert.True(undone.Sender.RetransmittedSegments * 10 < kept.Sender.RetransmittedSegments,
            $"resent {undone.Sender.RetransmittedSegments} with the undo, {kept.Sender.RetransmittedSegments} without");
    }

    [Fact]
    public void Without_timestamps_forward_rto_recovery_finds_the_timeout_spurious()
    {
        // Windows does not send timestamps by default: F-RTO (RFC 5682) tells by what the next ACKs cover.
        // F-RTO needs new data it may send when the first ACK comes: the congestion window, not the
        // peer's window or the send buffer, limits this flight (large buffers, a link queue that holds it).
        var noTimestamps = ConnectionOptions.Default with
        {
            Timestamps = false, ReceiveBufferMax = null, ReceiveBufferSize = 16 << 20, SendBufferMax = null, SendBufferSize = 8 << 20,
        };
        // The deep queue makes the round trip, and so the RTO, longer: a longer spike.
        var frto = DelaySpike(noTimestamps, queueLimit: 20_000, spikeMs: 3000);
        var plain = DelaySpike(noTimestamps with { ForwardRtoRecovery = false }, queueLimit: 20_000, spikeMs: 3000);

        Assert.True(frto.Sender.RetransmittedSegments > 0, "the timer never fired");
        Assert.Equal(1, frto.Sender.SpuriousTimeouts);
        Assert.Equal(0, plain.Sender.SpuriousTimeouts);
        Assert.True(frto.Sender.RetransmittedSegments * 10 < plain.Sender.RetransmittedSegments,
            $"resent {frto.Sender.RetransmittedSegments} with F-RTO, {plain.Sender.RetransmittedSegments} without");
        Assert.True(frto.CwndAfter > plain.CwndAfter, $"window after the spike: {frto.CwndAfter} with F-RTO, {plain.CwndAfter} without");
    }
}
