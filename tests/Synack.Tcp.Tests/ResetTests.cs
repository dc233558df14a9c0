using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>RST sent and accepted per RFC 9293 3.10.7 with RFC 5961's blind-attack defences.</summary>
public class ResetTests
{
    [Fact]
    public void A_rst_exactly_at_rcv_nxt_resets_the_connection()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Rst, d.PeerNxt, default);
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal((ConnectionEvent.Failed, TcpError.ConnectionReset), d.Events.Single());
        Assert.Empty(d.Sent);
    }

    [Fact]
    public void An_in_window_rst_that_is_not_exact_gets_a_challenge_ack()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Rst, d.PeerNxt + 1000, default);
        Assert.Equal(TcpState.Established, d.State);
        var ack = Assert.Single(d.Sent).Header;
        Assert.Equal(TcpFlags.Ack, ack.Flags);
        Assert.Equal(d.Connection.SndNxt, ack.Seq);
        Assert.Equal(d.PeerNxt, ack.Ack); // tells a real peer the exact number to use
    }

    [Fact]
    public void An_out_of_window_rst_is_dropped_silently()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Rst, d.PeerNxt + 10_000_000, default);
        d.Inject(TcpFlags.Rst, d.PeerNxt - 1, default);
        Assert.Equal(TcpState.Established, d.State);
        Assert.Empty(d.Sent);
    }

    [Fact]
    public void Rfc_793_mode_accepts_any_in_window_rst()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Rfc5961 = false, Timestamps = false });
        d.Inject(TcpFlags.Rst, d.PeerNxt + 1000, default);
        Assert.Equal(TcpState.Closed, d.State);
    }

    [Fact]
    public void An_in_window_syn_gets_a_challenge_ack_not_a_reset()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Syn, d.PeerNxt + 5, default);
        Assert.Equal(TcpState.Established, d.State);
        Assert.Equal(TcpFlags.Ack, Assert.Single(d.Sent).Header.Flags);
    }

    [Fact]
    public void Rfc_793_mode_resets_on_an_in_window_syn()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Rfc5961 = false, Timestamps = false });
        d.Inject(TcpFlags.Syn, d.PeerNxt + 5, default);
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, Assert.Single(d.Sent).Header.Flags);
    }

    [Fact]
    public void A_bare_rst_for_aborts_is_a_setting()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Rfc5961 = false, Timestamps = false, ResetCarriesAck = false });
        d.Inject(TcpFlags.Syn, d.PeerNxt + 5, default);
        Assert.Equal(TcpFlags.Rst, Assert.Single(d.Sent).Header.Flags);
    }

    [Fact]
    public void Challenge_acks_are_rate_limited()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, ChallengeAckLimit = 5 });
        for (int i = 0; i < 50; i++) d.Inject(TcpFlags.Rst, d.PeerNxt + 100 + i, default);
        Assert.Equal(5, d.Sent.Count);
        d.Advance(TimeSpan.FromSeconds(1));
        d.Inject(TcpFlags.Rst, d.PeerNxt + 100, default);
        Assert.Equal(6, d.Sent.Count);
    }

    [Fact]
    public void An_ack_for_data_never_sent_is_answered_and_dropped()
    {
        // RFC 9293 (and FreeBSD): answer with an ACK, drop the segment.
        var d = ConnectionDriver.InState(TcpState.Established, ConnectionOptions.Default with { SilentlyDropAckOfUnsentData = false });
        d.Inject(TcpFlags.Ack | TcpFlags.Psh, d.PeerNxt, d.Connection.SndNxt + 5000, length: 10);
        Assert.Equal(0, d.Connection.ReceiveQueued); // the data was not taken
        Assert.Equal(TcpFlags.Ack, Assert.Single(d.Sent).Header.Flags);
    }

    [Fact]
    public void Linux_drops_an_ack_for_data_never_sent_without_a_word_and_keeps_its_timestamp()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Ack | TcpFlags.Psh, d.PeerNxt, d.Connection.SndNxt + 5000, length: 10);
        Assert.Equal(0, d.Connection.ReceiveQueued);
        Assert.Empty(d.Sent);
    }

    [Fact]
    public void An_ack_too_far_in_the_past_is_answered_and_dropped()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Inject(TcpFlags.Ack | TcpFlags.Psh, d.PeerNxt, d.Connection.SndUna - 200_000, length: 10);
        Assert.Equal(0, d.Connection.ReceiveQueued);
        Assert.Single(d.Sent);
    }

    [Fact]
    public void In_syn_sent_a_rst_counts_only_if_it_acknowledges_our_syn()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent);
        d.Inject(TcpFlags.Rst | TcpFlags.Ack, new SeqNum(0), new SeqNum(ConnectionDriver.LocalIsn + 7));
        Assert.Equal(TcpState.SynSent, d.State); // unacceptable ACK: dropped, no reply to a RST
        Assert.Empty(d.Sent);
        d.Inject(TcpFlags.Rst | TcpFlags.Ack, new SeqNum(0), new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal(TcpError.ConnectionRefused, d.Connection.Error);
    }

    [Fact]
    public void A_rst_in_syn_received_after_simultaneous_open_refuses_the_connection()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent);
        d.Inject(TcpFlags.Syn, new SeqNum(ConnectionDriver.PeerIsn), default); // the peer's SYN crosses ours
        Assert.Equal(TcpState.SynReceived, d.State);
        d.Inject(TcpFlags.Rst, new SeqNum(ConnectionDriver.PeerIsn + 1), default);
        Assert.Equal(TcpState.Closed, d.State); // an active open does not go back to LISTEN
        Assert.Equal((ConnectionEvent.Failed, TcpError.ConnectionRefused), d.Events.Last());
    }

    [Fact]
    public void Syn_ack_retries_running_out_after_simultaneous_open_time_the_connect_out()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent);
        d.Inject(TcpFlags.Syn, new SeqNum(ConnectionDriver.PeerIsn), default);
        d.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal((ConnectionEvent.Failed, TcpError.TimedOut), d.Events.Last());
        Assert.Equal(TcpFlags.Rst, d.Sent[^1].Header.Flags);
    }

    [Fact]
    public void Abort_sends_rst_with_snd_nxt_and_the_peer_accepts_it()
    {
        var sim = Synack.Scenarios.ScenarioCatalog.NewNotePair();
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Send(100);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Abort();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        var rst = sim.Trace.Delivered().Last();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags);
        Assert.Equal(new SeqNum(Synack.Scenarios.ScenarioCatalog.ClientIsn + 101), rst.Seq);
        Assert.Equal(TcpState.Closed, sim.Server.State);
        Assert.Equal(TcpError.ConnectionReset, sim.Server.LastError);
        Assert.Equal(TcpError.Aborted, sim.Client.LastError);
    }

    [Fact]
    public void Rst_in_time_wait_closes_unless_rfc_1337_is_asked_for()
    {
        var d = ConnectionDriver.InState(TcpState.TimeWait);
        d.Inject(TcpFlags.Rst, d.PeerNxt, default);
        Assert.Equal(TcpState.Closed, d.State);

        var guarded = ConnectionDriver.InState(TcpState.TimeWait, new ConnectionOptions { Timestamps = false, IgnoreRstInTimeWait = true });
        guarded.Inject(TcpFlags.Rst, guarded.PeerNxt, default);
        Assert.Equal(TcpState.TimeWait, guarded.State);
    }
}

public class ZeroWindowTests
{
    [Fact]
    public void With_a_zero_receive_window_a_valid_ack_is_still_processed()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, Nagle = false, ReceiveBufferSize = 1000, ReceiveBufferMax = null });
        var c = d.Connection;
        d.Inject(TcpFlags.Ack | TcpFlags.Psh, d.PeerNxt, c.SndMax, length: 1000); // fills the buffer: nobody reads
        d.PeerNxt += 1000;
        c.Send(new byte[10], d.Now, out _);
        d.Clear();
        Assert.Equal(0u, c.RcvWnd);
        // The peer sends more data (which cannot be taken) with an ACK of our 10 bytes.
        d.Inject(TcpFlags.Ack | TcpFlags.Psh, d.PeerNxt, c.SndMax, length: 10);
        Assert.Equal(c.SndMax, c.SndUna);            // the ACK was heard
        Assert.Equal(1000, c.ReceiveQueued);          // the data was not taken
        var ack = Assert.Single(d.Sent).Header;       // and the window, still zero, was told
        Assert.Equal(0, ack.Window);
        Assert.Equal(d.PeerNxt, ack.Ack);
    }
}
