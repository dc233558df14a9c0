using Synack.Simulation;
using Synack.Stack;

namespace Synack.Tcp.Tests;

/// <summary>
/// One segment overtaken on the path: three duplicate ACKs come first and fast retransmit resends it,
/// then the original arrives, and the peer reports the resent copy as a duplicate (D-SACK, RFC 2883).
/// Every retransmission of the episode so reported, the reduction was for nothing and is undone.
/// </summary>
public class SpuriousRecoveryTests
{
    private static (Connection Sender, uint CwndBefore, uint CwndAfter) OneReordered(ConnectionOptions options)
    {
        var t = new OneWayTransfer(options, new LinkConditions { Latency = TimeSpan.FromMilliseconds(10), RateBytesPerSecond = 12_500_000 }, 4 << 20, seed: 5);
        t.Sim.RunFor(TimeSpan.FromMilliseconds(200));
        uint before = t.Sender.CongestionWindow;
        // The next data segment is held up 3 ms: the ones behind it arrive first.
        t.Sim.Link.Delay(s => s.From == "client" && s.Length > 0, TimeSpan.FromMilliseconds(3));
        t.Sim.RunFor(TimeSpan.FromMilliseconds(100));
        uint after = t.Sender.CongestionWindow;
        t.Finish(TimeSpan.FromMinutes(2));
        return (t.Sender, before, after);
    }

    [Fact]
    public void A_fast_retransmit_the_peer_reports_as_a_duplicate_is_undone()
    {
        var fixedBuffers = ConnectionOptions.Default with { ReceiveBufferMax = null, SendBufferMax = null };
        var undone = OneReordered(fixedBuffers);
        var kept = OneReordered(fixedBuffers with { UndoSpuriousTimeouts = false });

        Assert.True(undone.Sender.RetransmittedSegments > 0, "nothing was resent: the reordering tested nothing");
        Assert.Equal(1, undone.Sender.SpuriousRecoveries);
        Assert.True(undone.CwndAfter >= undone.CwndBefore, $"window {undone.CwndBefore} before, {undone.CwndAfter} after");
        Assert.Equal(0, kept.Sender.SpuriousRecoveries);
        Assert.True(kept.CwndAfter < kept.CwndBefore, $"without the undo the window was cut: {kept.CwndBefore} -> {kept.CwndAfter}");
    }
}
