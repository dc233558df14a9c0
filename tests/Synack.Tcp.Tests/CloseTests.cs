using Synack.Scenarios;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>S5, S6, S7, S9: the four-way close, half-close, every closing state, TIME-WAIT, FIN+ACK.</summary>
public class CloseTests
{
    private static readonly TcpState[] ActiveCloser =
        [TcpState.Closed, TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.FinWait2, TcpState.TimeWait, TcpState.Closed];
    private static readonly TcpState[] PassiveCloser =
        [TcpState.Closed, TcpState.Listen, TcpState.SynReceived, TcpState.Established, TcpState.CloseWait, TcpState.LastAck, TcpState.Closed];

    [Fact]
    public void S5_four_way_close_client_first()
    {
        var sim = ScenarioCatalog.HandshakeDataClose();
        Assert.Equal(ActiveCloser, sim.Trace.StatesOf("client"));
        Assert.Equal(PassiveCloser, sim.Trace.StatesOf("server"));
        var close = SequenceNumberTests.Rows(sim)[^4..];
        Assert.Equal(
        [
            "client FA seq=123557 ack=234668 len=0",
            "server . seq=234668 ack=123558 len=0",
            "server FA seq=234668 ack=123558 len=0",
            "client . seq=123558 ack=234669 len=0",
        ], close);
    }

    [Fact]
    public void S5_either_side_may_close_first()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Server.Close();
        sim.RunFor(TimeSpan.FromMilliseconds(200));
        sim.Client.Close();
        sim.RunUntilIdle();
        Assert.Equal([TcpState.Closed, TcpState.Listen, TcpState.SynReceived, TcpState.Established, TcpState.FinWait1, TcpState.FinWait2, TcpState.TimeWait, TcpState.Closed],
            sim.Trace.StatesOf("server"));
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.Established, TcpState.CloseWait, TcpState.LastAck, TcpState.Closed],
            sim.Trace.StatesOf("client"));
    }

    [Fact]
    public void S5_half_close_the_passive_side_keeps_sending_and_the_active_side_keeps_receiving()
    {
        var sim = ScenarioCatalog.HalfClose();
        Assert.Equal(ActiveCloser, sim.Trace.StatesOf("client"));
        Assert.Equal(PassiveCloser, sim.Trace.StatesOf("server"));
        Assert.Equal(100, sim.Server.ReceivedBytes.Length);
        Assert.Equal(600, sim.Client.ReceivedBytes.Length); // received in FIN-WAIT-2
        Assert.True(sim.Client.SawEndOfStream);
        Assert.True(sim.Server.SawEndOfStream);
        // The server's data went out while it was in CLOSE-WAIT.
        var dataFromServer = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Delivered && e.Segment!.From == "server" && e.Segment.Length > 0).ToArray();
        Assert.Equal(2, dataFromServer.Length);
        Assert.All(dataFromServer, e => Assert.Equal(TcpState.CloseWait, e.ServerState));
        Assert.All(dataFromServer, e => Assert.Equal(TcpState.FinWait2, e.ClientState));
    }

    [Fact]
    public void Half_close_the_other_way_the_server_shuts_down_and_still_reads()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Server.Shutdown();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TcpState.FinWait2, sim.Server.State);
        Assert.Equal(TcpState.CloseWait, sim.Client.State);
        sim.Client.Send(2000);
        sim.RunFor(TimeSpan.FromMilliseconds(200));
        Assert.Equal(2000, sim.Server.ReceivedBytes.Length);
        Assert.Equal(TcpError.ConnectionClosing, sim.Server.Connection!.Shutdown(sim.Clock));
        Assert.Equal(0, sim.Server.Send(10));
        Assert.Equal(TcpError.ConnectionClosing, sim.Server.LastError);
    }

    [Fact]
    public void S6_simultaneous_close_goes_through_closing_on_both_sides()
    {
        var sim = ScenarioCatalog.SimultaneousClose();
        TcpState[] expectedTail = [TcpState.Established, TcpState.FinWait1, TcpState.Closing, TcpState.TimeWait, TcpState.Closed];
        Assert.Equal(expectedTail, sim.Trace.StatesOf("client").TakeLast(5));
        Assert.Equal(expectedTail, sim.Trace.StatesOf("server").TakeLast(5));
        // Two FINs crossing, two ACKs crossing; nothing else.
        var close = SequenceNumberTests.Rows(sim)[3..];
        Assert.Equal(new[]
        {
            "client FA seq=123457 ack=234568 len=0",
            "server FA seq=234568 ack=123457 len=0",
            "server . seq=234569 ack=123458 len=0",
            "client . seq=123458 ack=234569 len=0",
        }.Order(), close.Order());
    }

    [Fact]
    public void S6_every_closing_state_occurs_across_the_scenarios()
    {
        var seen = new HashSet<TcpState>();
        foreach (var s in ScenarioCatalog.All)
        {
            var sim = s.RunBare();
            seen.UnionWith(sim.Trace.StatesOf("client"));
            seen.UnionWith(sim.Trace.StatesOf("server"));
        }
        Assert.Superset(new HashSet<TcpState>(Enum.GetValues<TcpState>()), seen);
        Assert.Equal(11, seen.Count);
    }

    [Fact]
    public void S7_time_wait_lasts_two_msl_and_msl_is_configurable()
    {
        var opts = ScenarioCatalog.NoteOptions with { Msl = TimeSpan.FromMinutes(2) }; // RFC 1122's MSL: TIME-WAIT is 4 minutes
        var sim = ScenarioCatalog.ConnectedNotePair(client: opts);
        sim.Client.Close();
        sim.Server.CloseOnEndOfStream = true;
        sim.RunFor(TimeSpan.FromSeconds(1));
        var entered = sim.Trace.Entries.Single(e => e.Kind == TraceKind.StateChanged && e.Endpoint == "client" && e.To == TcpState.TimeWait).Time;
        Assert.Equal(entered + TimeSpan.FromMinutes(4), sim.Client.Connection!.TimerDeadline(TcpTimer.TimeWait));
        sim.RunFor(TimeSpan.FromMinutes(4) - TimeSpan.FromSeconds(2));
        Assert.Equal(TcpState.TimeWait, sim.Client.State);
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal((ConnectionEvent.Closed, TcpError.None), sim.Client.Events.Last());
    }

    [Fact]
    public void S7_the_last_ack_is_lost_the_fin_is_acked_again_and_2msl_restarts()
    {
        var sim = ScenarioCatalog.LostFinalAck();
        var finsFromServer = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Delivered && e.Segment!.From == "server" && e.Segment.Has(TcpFlags.Fin)).ToArray();
        Assert.Equal(2, finsFromServer.Length);                      // the FIN and its retransmission
        Assert.Equal(finsFromServer[0].Segment!.Seq, finsFromServer[1].Segment!.Seq);
        Assert.Equal(TcpState.FinWait2, finsFromServer[0].ClientState); // state at arrival: it moves the client to TIME-WAIT
        Assert.Equal(TcpState.TimeWait, finsFromServer[1].ClientState);
        var acks = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.IsPureAck && e.Segment.Ack == finsFromServer[0].Segment!.Seq + 1).ToArray();
        Assert.Equal(2, acks.Length);                                // acked twice
        Assert.Equal(PassiveCloser, sim.Trace.StatesOf("server"));   // ... and the server reaches CLOSED
        var closed = sim.Trace.Entries.Single(e => e.Kind == TraceKind.StateChanged && e.Endpoint == "client" && e.To == TcpState.Closed).Time;
        Assert.Equal(finsFromServer[1].Time + TimeSpan.FromSeconds(60), closed); // 2 MSL from the retransmitted FIN
    }

    [Fact]
    public void S7_a_new_syn_for_a_connection_in_time_wait_does_not_reach_a_new_connection()
    {
        var d = ConnectionDriver.InState(TcpState.TimeWait);
        d.Inject(TcpFlags.Syn, d.PeerNxt + 100000, default);
        Assert.Equal(TcpState.TimeWait, d.State);
        Assert.Single(d.Sent);
        Assert.Equal(TcpFlags.Ack, d.Sent[0].Header.Flags); // a challenge ACK (RFC 5961 4.2); the stack decides on reuse (RFC 6191)
    }

    [Fact]
    public void S9_combined_fin_makes_three_close_segments_and_fin_wait_2_never_occurs()
    {
        var sim = ScenarioCatalog.CombinedFin();
        var rows = SequenceNumberTests.Rows(sim);
        Assert.Equal(
        [
            "client FA seq=123557 ack=234568 len=0",
            "server FA seq=234568 ack=123558 len=0",  // the ACK of the client's FIN rides on the server's FIN
            "client . seq=123558 ack=234569 len=0",
        ], rows[^3..]);
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.TimeWait, TcpState.Closed],
            sim.Trace.StatesOf("client"));
        Assert.DoesNotContain(TcpState.FinWait2, sim.Trace.StatesOf("client"));
        Assert.Equal(PassiveCloser, sim.Trace.StatesOf("server"));
    }

    [Fact]
    public void Without_a_delayed_ack_for_the_fin_the_close_takes_four_segments()
    {
        var opts = ScenarioCatalog.NoteOptions with { DelayAckOfFin = false };
        var sim = ScenarioCatalog.NewNotePair(server: opts);
        sim.Server.CloseOnEndOfStream = true;
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Close();
        sim.RunUntilIdle();
        Assert.Contains(TcpState.FinWait2, sim.Trace.StatesOf("client"));
        Assert.Equal(4, SequenceNumberTests.Rows(sim).Length - 3);
    }

    [Fact]
    public void A_close_in_syn_received_is_queued_and_the_fin_follows_the_handshake()
    {
        var d = ConnectionDriver.InState(TcpState.SynReceived);
        Assert.Equal(TcpError.None, d.Connection.Shutdown(d.Now));
        Assert.Equal(TcpState.SynReceived, d.State);
        Assert.Empty(d.Sent);
        d.Inject(TcpFlags.Ack, d.PeerNxt, new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TcpState.FinWait1, d.State);
        Assert.Equal(TcpFlags.Fin | TcpFlags.Ack, Assert.Single(d.Sent).Header.Flags);
    }

    [Fact]
    public void An_orphaned_connection_leaves_fin_wait_2_after_the_timeout()
    {
        var opts = ScenarioCatalog.NoteOptions with { FinWait2Timeout = TimeSpan.FromSeconds(60) };
        var sim = ScenarioCatalog.ConnectedNotePair(client: opts);
        sim.Client.Close(); // full close: the application is gone
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(TcpState.FinWait2, sim.Client.State);
        Assert.Equal(TcpState.CloseWait, sim.Server.State); // the server application never closes
        sim.RunFor(TimeSpan.FromSeconds(60));
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Contains(sim.Trace.Entries, e => e.Kind == TraceKind.TimerFired && e.Text == nameof(TcpTimer.FinWait2));
    }

    [Fact]
    public void A_half_closed_connection_stays_in_fin_wait_2_as_long_as_it_likes()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Client.Shutdown(); // half-close: the application still reads
        sim.RunFor(TimeSpan.FromMinutes(30));
        Assert.Equal(TcpState.FinWait2, sim.Client.State);
    }

    [Fact]
    public void Data_arriving_after_a_full_close_is_answered_with_rst()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Client.Close();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Send(10);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal(TcpState.Closed, sim.Server.State);
        Assert.Equal(TcpError.ConnectionReset, sim.Server.LastError);
    }

    [Fact]
    public void Close_with_unread_data_resets_the_connection()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Server.AutoRead = false;
        sim.Client.Send(10);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Close();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        var rst = sim.Trace.Delivered().Last();
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, rst.Flags); // as Linux sends it: RST with ACK = RCV.NXT
        Assert.Equal(new SeqNum(ScenarioCatalog.ClientIsn + 11), rst.Ack);
        Assert.Equal(TcpError.ConnectionReset, sim.Client.LastError);
        Assert.Equal(TcpState.Closed, sim.Server.State);
        Assert.Equal(0, sim.Server.Connection!.ReceiveQueued); // the unread bytes are gone with it
    }
}

public class LadderTests
{
    [Fact]
    public void The_combined_fin_ladder_states_after_every_segment()
    {
        var rows = Ladder.Build(ScenarioCatalog.CombinedFin().Trace, includeCalls: false, includeTimers: false).Select(r => r.ToString());
        Assert.Equal(
        [
            "client S seq=0 ack=0 len=0 -> SYN-SENT/SYN-RECEIVED",
            "server SA seq=0 ack=1 len=0 -> ESTABLISHED/SYN-RECEIVED",
            "client . seq=1 ack=1 len=0 -> ESTABLISHED/ESTABLISHED",
            "client PA seq=1 ack=1 len=100 -> ESTABLISHED/ESTABLISHED",
            "server . seq=1 ack=101 len=0 -> ESTABLISHED/ESTABLISHED",
            "client FA seq=101 ack=1 len=0 -> FIN-WAIT-1/CLOSE-WAIT",
            "server FA seq=1 ack=102 len=0 -> TIME-WAIT/LAST-ACK",
            "client . seq=102 ack=2 len=0 -> TIME-WAIT/CLOSED",
        ], rows);
    }

    [Fact]
    public void A_lost_segment_is_a_rung_of_its_own()
    {
        var rows = Ladder.Build(ScenarioCatalog.LostFinalAck().Trace, includeCalls: false, includeTimers: false);
        var lost = Assert.Single(rows, r => r.Lost);
        Assert.Equal("client . seq=2 ack=2 len=0 LOST -> TIME-WAIT/LAST-ACK", lost.ToString());
    }

    [Theory]
    [InlineData(true)]  // Linux: RCV_SHUTDOWN in FIN-WAIT, the data cannot be read: reset
    [InlineData(false)] // FreeBSD: only a closed application's connection resets
    public void Data_after_shutdown_of_both_sides_resets_the_connection_on_linux_only(bool linuxRule)
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, ResetDataAfterReceiveShutdown = linuxRule });
        var c = d.Connection;
        c.ShutdownReceive();
        c.Shutdown(d.Now);
        Assert.Equal(TcpState.FinWait1, c.State);
        d.Clear();

        d.InjectData(d.PeerNxt, new byte[10]);

        if (linuxRule)
        {
            Assert.Equal(TcpState.Closed, c.State);
            Assert.Equal(TcpFlags.Rst, Assert.Single(d.Sent).Header.Flags);
            Assert.Equal(TcpError.ConnectionReset, c.Error);
        }
        else
        {
            Assert.Equal(TcpState.FinWait2, c.State); // the segment acked our FIN; its data was taken
            Assert.True(d.Sent.All(s => !s.Header.Flags.Has(TcpFlags.Rst)));
            Assert.Equal(10, c.ReceiveQueued);
        }
    }

    [Fact]
    public void With_no_fin_wait_2_time_an_orphan_resets_when_its_fin_is_acked()
    {
        // TCP_LINGER2 below zero (Linux): the ACK of the FIN is answered as a segment no socket takes.
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var c = d.Connection;
        c.FinWait2Timeout = TimeSpan.FromSeconds(-1);
        c.Close(d.Now);
        Assert.Equal(TcpState.FinWait1, c.State);
        d.Clear();

        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax);

        Assert.Equal(TcpState.Closed, c.State);
        var rst = Assert.Single(d.Sent).Header;
        Assert.Equal(TcpFlags.Rst, rst.Flags);
        Assert.Equal(c.SndMax, rst.Seq);
    }

    [Fact]
    public void With_no_fin_wait_2_time_a_close_in_fin_wait_2_resets()
    {
        // shutdown() first, the FIN acked (FIN-WAIT-2, not yet an orphan), then close() with TCP_LINGER2 < 0.
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var c = d.Connection;
        c.Shutdown(d.Now);
        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax);
        Assert.Equal(TcpState.FinWait2, c.State);
        c.FinWait2Timeout = TimeSpan.FromSeconds(-1);
        d.Clear();

        c.Close(d.Now);

        Assert.Equal(TcpState.Closed, c.State);
        Assert.True(Assert.Single(d.Sent).Header.Flags.Has(TcpFlags.Rst));
    }

    [Fact]
    public void A_short_fin_wait_2_time_is_at_least_three_and_a_half_rtos_on_linux()
    {
        var d = ConnectionDriver.InState(TcpState.Established, ConnectionOptions.Linux with { Timestamps = false, FinWait2Timeout = TimeSpan.FromMilliseconds(100) });
        var c = d.Connection;
        var rto = c.Rto;
        c.Close(d.Now);
        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax);
        Assert.Equal(TcpState.FinWait2, c.State);
        var floor = 4 * rto - rto / 2;

        d.Advance(floor - TimeSpan.FromMilliseconds(1));
        Assert.Equal(TcpState.FinWait2, c.State);
        d.Advance(TimeSpan.FromMilliseconds(2));
        Assert.Equal(TcpState.Closed, c.State);
    }
}
