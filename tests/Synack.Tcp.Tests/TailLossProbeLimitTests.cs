using Synack.Wire;

namespace Synack.Tcp.Tests;

public class TailLossProbeLimitTests
{
    [Fact]
    public void A_probe_resends_the_last_segment_sent_never_data_the_peers_window_held_back()
    {
        // The peer's window lets four segments go of twenty queued; nothing comes back. The probe must
        // resend the fourth — not "the last segment" of the buffer, which was never sent (it once did,
        // and moved SND.MAX over the gap as if all of it had gone).
        // No window scaling: the peer's window can be exactly four segments.
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, WindowScaling = false });
        var c = d.Connection;
        Assert.True(c.SackNegotiated);
        int mss = c.SendMss;
        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax, window: (ushort)(4 * mss));
        d.Clear();
        c.Send(new byte[20 * mss], d.Now, out _);
        var maxBefore = c.SndMax;
        Assert.Equal(4, d.Sent.Count);
        for (int i = 0; i < 100 && c.TailLossProbes == 0; i++) d.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(1, c.TailLossProbes);
        var probe = d.Sent[4];
        Assert.Equal(maxBefore, probe.Header.Seq + probe.Payload.Length);
        Assert.Equal(maxBefore, c.SndMax);
    }
}
