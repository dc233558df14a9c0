using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// TIME-WAIT's rules, on the compact state a host keeps once it lets the connection go: each segment
/// gives a verdict and maybe a reply, with no connection and no I/O behind it.
/// </summary>
public class TimeWaitStateTests
{
    private static readonly TimeSpan Later = TimeSpan.FromSeconds(10);

    private static (ConnectionDriver Driver, TimeWaitState State) InTimeWait(ConnectionOptions? options = null)
    {
        var d = ConnectionDriver.InState(TcpState.TimeWait, options);
        var tw = d.Connection.TimeWait;
        Assert.NotNull(tw);
        return (d, tw);
    }

    private static TcpHeader Segment(TcpFlags flags, SeqNum seq, SeqNum ack = default) => new()
    {
        SourcePort = ConnectionDriver.Tuple.RemotePort,
        DestinationPort = ConnectionDriver.Tuple.LocalPort,
        Seq = seq,
        Ack = ack,
        Flags = flags,
        Window = 65535,
    };

    [Fact]
    public void It_holds_what_the_connection_had_when_time_wait_began()
    {
        var (d, tw) = InTimeWait();
        Assert.Equal(d.Connection.SndMax, tw.SndNxt);
        Assert.Equal(d.Connection.RcvNxt, tw.RcvNxt);
        Assert.Equal(d.Connection.TimerDeadline(TcpTimer.TimeWait), tw.Expires);
        Assert.Equal(d.Now + 2 * d.Options.Msl, tw.Expires);
    }

    [Fact]
    public void A_retransmitted_fin_is_acked_again_and_restarts_two_msl()
    {
        var (d, tw) = InTimeWait();
        var fin = Segment(TcpFlags.Fin | TcpFlags.Ack, tw.RcvNxt - 1, tw.SndNxt);
        var verdict = tw.Handle(in fin, 0, d.Now + Later, allowReopen: true, out var reply, out bool send);
        Assert.Equal(TimeWaitVerdict.Keep, verdict);
        Assert.True(send);
        Assert.Equal(TcpFlags.Ack, reply.Flags);
        Assert.Equal(tw.SndNxt, reply.Seq);
        Assert.Equal(tw.RcvNxt, reply.Ack);
        Assert.Equal(d.Now + Later + 2 * d.Options.Msl, tw.Expires);
    }

    [Fact]
    public void Only_an_exact_rst_ends_it_and_nothing_answers_a_rst()
    {
        var (d, tw) = InTimeWait();
        var off = Segment(TcpFlags.Rst, tw.RcvNxt + 1);
        Assert.Equal(TimeWaitVerdict.Keep, tw.Handle(in off, 0, d.Now, true, out _, out bool send));
        Assert.False(send);
        var exact = Segment(TcpFlags.Rst, tw.RcvNxt);
        Assert.Equal(TimeWaitVerdict.Close, tw.Handle(in exact, 0, d.Now, true, out _, out send));
        Assert.False(send);
    }

    [Fact]
    public void The_freebsd_profile_ignores_even_an_exact_rst()
    {
        var (d, tw) = InTimeWait(ConnectionOptions.FreeBsd with { Timestamps = false });
        var exact = Segment(TcpFlags.Rst, tw.RcvNxt);
        Assert.Equal(TimeWaitVerdict.Keep, tw.Handle(in exact, 0, d.Now, true, out _, out _));
    }

    [Fact]
    public void A_new_syn_past_rcv_nxt_reopens_the_tuple_when_the_host_allows_it()
    {
        var (d, tw) = InTimeWait();
        var syn = Segment(TcpFlags.Syn, tw.RcvNxt + 100_000);
        Assert.Equal(TimeWaitVerdict.Reopen, tw.Handle(in syn, 0, d.Now, allowReopen: true, out _, out bool send));
        Assert.False(send);
        // Without a listener to take it, the same SYN gets a challenge ACK (RFC 5961 4.2).
        Assert.Equal(TimeWaitVerdict.Keep, tw.Handle(in syn, 0, d.Now, allowReopen: false, out var reply, out send));
        Assert.True(send);
        Assert.Equal(TcpFlags.Ack, reply.Flags);
        Assert.Equal(tw.RcvNxt, reply.Ack);
    }

    [Fact]
    public void An_old_syn_never_reopens()
    {
        var (d, tw) = InTimeWait();
        var old = Segment(TcpFlags.Syn, tw.RcvNxt - 10);
        Assert.Equal(TimeWaitVerdict.Keep, tw.Handle(in old, 0, d.Now, allowReopen: true, out var reply, out bool send));
        Assert.True(send);
        Assert.Equal(TcpFlags.Ack, reply.Flags);
    }

    [Fact]
    public void Rfc_793_resets_a_syn_in_the_window_and_ends_time_wait()
    {
        var (d, tw) = InTimeWait(new ConnectionOptions { Timestamps = false, Nagle = false, Rfc5961Syn = false });
        var syn = Segment(TcpFlags.Syn, tw.RcvNxt);
        Assert.Equal(TimeWaitVerdict.Close, tw.Handle(in syn, 0, d.Now, allowReopen: false, out var reply, out bool send));
        Assert.True(send);
        Assert.True(reply.Flags.Has(TcpFlags.Rst));
        Assert.Equal(tw.SndNxt, reply.Seq);
    }

    [Fact]
    public void A_bare_connection_in_time_wait_follows_the_same_rules()
    {
        var (d, _) = InTimeWait(new ConnectionOptions { Timestamps = false, Nagle = false, Rfc5961Syn = false });
        d.Inject(TcpFlags.Syn, d.PeerNxt, default);
        Assert.Equal(TcpState.Closed, d.State);
        Assert.True(d.Last.Header.Flags.Has(TcpFlags.Rst));
        Assert.Contains((ConnectionEvent.Failed, TcpError.ConnectionReset), d.Events);
    }

    [Fact]
    public void A_bare_ack_at_rcv_nxt_is_dropped_without_an_answer_but_data_is_answered()
    {
        var (d, tw) = InTimeWait();
        var ack = Segment(TcpFlags.Ack, tw.RcvNxt, tw.SndNxt);
        Assert.Equal(TimeWaitVerdict.Drop, tw.Handle(in ack, 0, d.Now, true, out _, out bool send));
        Assert.False(send);
        Assert.Equal(TimeWaitVerdict.Drop, tw.Handle(in ack, 10, d.Now, true, out var reply, out send));
        Assert.True(send);
        Assert.Equal(tw.RcvNxt, reply.Ack);
    }

    [Fact]
    public void Its_acks_carry_the_connections_timestamp_clock()
    {
        var d = new ConnectionDriver(new ConnectionOptions { Nagle = false });
        var c = d.Connection;
        c.OpenActive(d.Now);
        var synAck = Segment(TcpFlags.Syn | TcpFlags.Ack, new SeqNum(ConnectionDriver.PeerIsn), new SeqNum(ConnectionDriver.LocalIsn + 1));
        synAck.Options.HasTimestamps = true;
        synAck.Options.TsVal = 777;
        synAck.Options.TsEcr = d.Sent[0].Header.Options.TsVal;
        d.InjectHeader(in synAck, default);
        c.Shutdown(d.Now);
        var finAck = Segment(TcpFlags.Fin | TcpFlags.Ack, new SeqNum(ConnectionDriver.PeerIsn + 1), c.SndMax);
        finAck.Options.HasTimestamps = true;
        finAck.Options.TsVal = 778;
        finAck.Options.TsEcr = d.Sent[^1].Header.Options.TsVal;
        d.InjectHeader(in finAck, default);
        var tw = c.TimeWait!;
        var lastTsVal = d.Sent[^1].Header.Options.TsVal;

        var again = finAck;
        again.Options.TsVal = 779;
        tw.Handle(in again, 0, d.Now + Later, true, out var reply, out _);
        Assert.True(reply.Options.HasTimestamps);
        Assert.Equal(778u, reply.Options.TsEcr);
        Assert.Equal(lastTsVal + (uint)Later.TotalMilliseconds, reply.Options.TsVal);
    }
}
