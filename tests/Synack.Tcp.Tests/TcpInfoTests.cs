using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>tcp_info: answered in every state, in Linux's units, and moving with what happens.</summary>
public class TcpInfoTests
{
    public static TheoryData<TcpState> EveryState => [.. Enum.GetValues<TcpState>()];

    [Theory]
    [MemberData(nameof(EveryState))]
    public void Every_state_answers(TcpState state)
    {
        var d = ConnectionDriver.InState(state);
        var info = d.Connection.GetInfo(d.Now + TimeSpan.FromSeconds(1));
        Assert.Equal(state, info.State);
        Assert.True(info.SendCwnd >= 0 && info.Unacked >= 0 && info.Lost >= 0 && info.Sacked >= 0);
        if (state.IsSynchronized() && state != TcpState.SynReceived)
        {
            Assert.Equal(TcpInfo.InfiniteSsthresh, info.SendSsthresh);
            Assert.Equal(10, info.SendCwnd); // IW10, in segments
        }
    }

    [Fact]
    public void Data_moves_the_counters_and_the_since_fields()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        var c = d.Connection;
        var sentAt = d.Now;
        c.Send(new byte[3000], d.Now, out _);
        var info = c.GetInfo(d.Now);
        Assert.Equal(3, info.Unacked);
        Assert.Equal(CongestionState.Open, info.CongestionState);
        d.Advance(TimeSpan.FromMilliseconds(5)); // before the tail loss probe's 10 ms
        d.Inject(TcpFlags.Ack, d.PeerNxt, new SeqNum(ConnectionDriver.LocalIsn + 1 + 3000));
        d.InjectData(d.PeerNxt, new byte[500]);
        var asked = d.Now + TimeSpan.FromMilliseconds(250);
        info = c.GetInfo(asked);
        Assert.Equal(0, info.Unacked);
        Assert.Equal(3001, info.BytesAcked); // Linux's bytes_acked counts an active open's SYN
        Assert.Equal(500, info.BytesReceived);
        Assert.Equal(250, info.LastDataReceivedMilliseconds);
        Assert.Equal((long)(asked - sentAt).TotalMilliseconds, info.LastDataSentMilliseconds);
        Assert.True(info.BusyMicroseconds > 0, "the sender was busy while data was out");
    }

    [Fact]
    public void A_sender_the_congestion_window_stops_is_not_counted_as_held_by_the_receive_window()
    {
        // Linux's tcp_write_xmit asks the congestion window first: with both windows full, the sender is
        // congestion-limited (busy), not receive-window limited.
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, WindowScaling = false, InitialWindowSegments = 10 });
        var c = d.Connection;
        int mss = c.SendMss;
        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax, window: (ushort)(10 * mss));
        c.Send(new byte[20 * mss], d.Now, out _);
        d.Advance(TimeSpan.FromMilliseconds(10));

        var info = c.GetInfo(d.Now);
        Assert.Equal(10_000, info.BusyMicroseconds);
        Assert.Equal(0, info.ReceiveWindowLimitedMicroseconds);

        // A window smaller than the congestion window is what holds it: that time counts.
        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndNxt, window: (ushort)(2 * mss));
        d.Advance(TimeSpan.FromMilliseconds(10));
        Assert.Equal(10_000, c.GetInfo(d.Now).ReceiveWindowLimitedMicroseconds);
    }

    [Fact]
    public void Three_duplicate_acks_put_the_sender_in_recovery_and_a_timeout_in_loss()
    {
        // Counting duplicate ACKs (RACK off: with it, time decides, and here no time passes).
        var d = ConnectionDriver.InState(TcpState.Established, ConnectionOptions.Linux with { Rack = false });
        var c = d.Connection;
        c.Send(new byte[c.SendMss * 6], d.Now, out _);
        var una = new SeqNum(ConnectionDriver.LocalIsn + 1);
        d.Inject(TcpFlags.Ack, d.PeerNxt, una, window: 65535);
        Assert.Equal(CongestionState.Open, c.GetInfo(d.Now).CongestionState);
        for (int i = 0; i < 3; i++)
        {
            d.AckWithSacks(una, 65535, new SackBlock(una + c.SendMss, una + c.SendMss * (2 + i)));
            if (i == 0) Assert.Equal(CongestionState.Disorder, c.GetInfo(d.Now).CongestionState);
        }
        var info = c.GetInfo(d.Now);
        Assert.Equal(CongestionState.Recovery, info.CongestionState);
        Assert.Equal(3, info.Sacked);
        Assert.Equal(7, info.SendSsthresh); // CUBIC: 0.7 of ten segments
        d.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(CongestionState.Loss, c.GetInfo(d.Now).CongestionState);
        Assert.True(c.GetInfo(d.Now).Backoff > 0);
    }
}
