using Synack.Scenarios;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>S2, S3, S4: the three-way handshake, why three, and a lost third segment.</summary>
public class HandshakeTests
{
    [Fact]
    public void A_connection_establishment_timeout_ends_a_connect_before_the_syn_retries_would()
    {
        var d = new ConnectionDriver(new ConnectionOptions { ConnectionEstablishmentTimeout = TimeSpan.FromSeconds(10) });
        d.Connection.OpenActive(d.Now);
        d.Advance(TimeSpan.FromSeconds(9.9));
        Assert.Equal(TcpState.SynSent, d.State);
        d.Advance(TimeSpan.FromSeconds(0.2));
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal(TcpError.TimedOut, d.Connection.Error);
        Assert.Equal(4, d.Sent.Count(s => s.Header.Flags == TcpFlags.Syn)); // at 0, 1, 3 and 7 s; not at 15 s
    }

    [Fact]
    public void Three_way_handshake_goes_through_the_rfc_states_and_carries_no_data()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.Established], sim.Trace.StatesOf("client"));
        Assert.Equal([TcpState.Closed, TcpState.Listen, TcpState.SynReceived, TcpState.Established], sim.Trace.StatesOf("server"));
        var segs = sim.Trace.Delivered().ToArray();
        Assert.Equal(3, segs.Length);
        Assert.Equal(TcpFlags.Syn, segs[0].Flags);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, segs[1].Flags);
        Assert.Equal(TcpFlags.Ack, segs[2].Flags);
        Assert.All(segs, s => Assert.Equal(0, s.Length));
        Assert.Equal(segs[0].Seq + 1, segs[1].Ack);   // ack = x + 1
        Assert.Equal(segs[0].Seq + 1, segs[2].Seq);   // seq = x + 1
        Assert.Equal(segs[1].Seq + 1, segs[2].Ack);   // ack = y + 1
    }

    [Fact]
    public void The_syn_header_is_32_bytes_and_negotiates_mss_sack_and_window_scale()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromSeconds(1));
        var syn = sim.Trace.Delivered().First();
        Assert.True(TcpPacket.TryParse(syn.Packet, out _, out var tcp, out _));
        Assert.Equal(32, tcp.HeaderLength); // 20 fixed + 12 of options, the classic SYN of S2
        Assert.Equal("mss 1460,nop,wscale 3,nop,nop,sackOK", TcpOptionText.Describe(syn.Packet));

        foreach (var c in new[] { sim.Client.Connection!, sim.Server.Connection! })
        {
            Assert.True(c.WindowScaleNegotiated);
            Assert.True(c.SackNegotiated);
            Assert.False(c.TimestampsNegotiated);
            Assert.Equal(1460, c.SendMss);
            Assert.Equal(3, c.SendWindowShift);
        }
        // The window learnt in the handshake is the field shifted by the peer's scale.
        var third = sim.Trace.Delivered().ElementAt(2);
        Assert.Equal((uint)third.Window << 3, sim.Server.Connection!.SndWnd);
    }

    [Fact]
    public void Options_are_only_used_when_both_sides_offer_them()
    {
        var plain = new ConnectionOptions { WindowScaling = false, Sack = false, Timestamps = false, Mss = 1000 };
        var sim = new BareRun(ConnectionOptions.Default, plain);
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromSeconds(1));
        var synAck = sim.Trace.Delivered().ElementAt(1);
        Assert.Equal("mss 1000", TcpOptionText.Describe(synAck.Packet));
        var c = sim.Client.Connection!;
        Assert.False(c.WindowScaleNegotiated);
        Assert.False(c.SackNegotiated);
        Assert.False(c.TimestampsNegotiated);
        Assert.Equal(1000, c.SendMss);
    }

    [Fact]
    public void Timestamps_cost_twelve_bytes_of_each_segment()
    {
        var sim = new BareRun();
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(sim.Client.Connection!.TimestampsNegotiated);
        Assert.Equal(1448, sim.Client.Connection!.SendMss);
        Assert.Matches(@"^mss 1460,sackOK,TS val \d+ ecr 0,nop,wscale 7$", TcpOptionText.Describe(sim.Trace.Delivered().First().Packet));
    }

    [Fact]
    public void Simultaneous_open_goes_through_syn_received_on_both_sides()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Client.Connect();
        sim.Server.Connect();
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.SynReceived, TcpState.Established], sim.Trace.StatesOf("client"));
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.SynReceived, TcpState.Established], sim.Trace.StatesOf("server"));
        // Four segments: two SYNs crossing, two SYN-ACKs crossing.
        var segs = sim.Trace.Delivered().Select(s => $"{s.From} {s.Flags.ToShortString()}").ToArray();
        Assert.Equal(["client S", "server S"], segs[..2]);
        Assert.Equal(["client SA", "server SA"], segs[2..].Order());
    }

    [Fact]
    public void S3_an_old_syn_to_a_client_that_forgot_is_reset_and_the_server_stays_listening()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Server.Listen();
        sim.Link.Inject(sim.Client, ScenarioCatalog.OldSyn(sim, 90000));
        sim.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(
        [
            "client S seq=90000 ack=0 len=0",
            "server SA seq=234567 ack=90001 len=0",
            "client R seq=90001 ack=0 len=0",    // no TCB at the client: RST with seq = the SYN-ACK's ack
        ], SequenceNumberTests.Rows(sim));
        Assert.Equal([TcpState.Closed, TcpState.Listen, TcpState.SynReceived, TcpState.Listen], sim.Trace.StatesOf("server"));
        Assert.Equal(TcpState.Listen, sim.Server.State);
        Assert.Null(sim.Server.Connection!.TimerDeadline(TcpTimer.Retransmission)); // nothing waits
    }

    [Fact]
    public void S3_figure_9_an_old_syn_during_a_new_connect_is_recovered()
    {
        var sim = ScenarioCatalog.OldDuplicateSyn();
        Assert.Equal(
        [
            "client S seq=90000 ack=0 len=0",       // the old duplicate arrives first
            "server SA seq=234567 ack=90001 len=0", // acknowledges the wrong number
            "client R seq=90001 ack=0 len=0",       // SYN-SENT: RST with seq = SEG.ACK
            "client S seq=123456 ack=0 len=0",      // the real SYN
            "server SA seq=234567 ack=123457 len=0",
            "client . seq=123457 ack=234568 len=0",
        ], SequenceNumberTests.Rows(sim));
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.Established], sim.Trace.StatesOf("client"));
        Assert.Equal([TcpState.Closed, TcpState.Listen, TcpState.SynReceived, TcpState.Listen, TcpState.SynReceived, TcpState.Established],
            sim.Trace.StatesOf("server"));
    }

    [Fact]
    public void S4_the_server_retries_its_syn_ack_with_backoff_then_resets_and_frees_the_half_open_connection()
    {
        var sim = ScenarioCatalog.LostThirdAck();
        var synAcks = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Segment!.Is(TcpFlags.Syn | TcpFlags.Ack)).Select(e => e.Time.TotalSeconds).ToArray();
        // First at 10 ms (the SYN's arrival), then 1, 2, 4, 8, 16 s later: five retries (tcp_synack_retries).
        Assert.Equal([0.010, 1.010, 3.010, 7.010, 15.010, 31.010], synAcks);
        var rst = sim.Trace.Entries.Single(e => e.Kind == TraceKind.Sent && e.Segment!.Has(TcpFlags.Rst));
        Assert.Equal("server", rst.Endpoint);
        Assert.Equal(63.010, rst.Time.TotalSeconds, 3);
        Assert.Equal(new SeqNum(ScenarioCatalog.ServerIsn + 1), rst.Segment!.Seq);
        Assert.Equal(TcpState.Listen, sim.Server.State);
        Assert.Contains((ConnectionEvent.HalfOpenDropped, TcpError.None), sim.Server.Events);
        // The client thought it was connected; the RST tells it otherwise.
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal(TcpError.ConnectionReset, sim.Client.LastError);
    }

    [Theory]
    [InlineData("linux-6.18")]
    [InlineData("freebsd")]
    public void On_linux_and_freebsd_a_half_open_connection_whose_syn_ack_retries_run_out_is_dropped_in_silence(string profile)
    {
        // Linux's request socket expires and FreeBSD's syncache entry is dropped: no RST (the note's S4
        // RST is the default profile's); a late final ACK then meets the listener and is reset there.
        var options = (profile == "freebsd" ? ConnectionOptions.FreeBsd : ConnectionOptions.Linux618) with { SynAckRetries = 2 };
        var d = ConnectionDriver.InState(TcpState.SynReceived, options);
        while (d.State == TcpState.SynReceived) d.Advance(d.Connection.NextDeadline - d.Now);

        Assert.Equal(TcpState.Listen, d.State);
        Assert.Equal(2, d.Sent.Count(s => s.Header.Flags == (TcpFlags.Syn | TcpFlags.Ack))); // its two retransmissions
        Assert.DoesNotContain(d.Sent, s => s.Header.Flags.Has(TcpFlags.Rst));
        Assert.Contains((ConnectionEvent.HalfOpenDropped, TcpError.None), d.Events);
    }

    [Fact]
    public void S4_the_client_retries_its_syn_with_backoff_then_connect_fails_with_a_timeout()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Link.Drop(s => s.Is(TcpFlags.Syn), times: int.MaxValue);
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunUntilIdle(TimeSpan.FromMinutes(10));
        var syns = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Segment!.Is(TcpFlags.Syn)).Select(e => e.Time.TotalSeconds).ToArray();
        Assert.Equal([0, 1, 3, 7, 15, 31, 63], syns); // six retries (tcp_syn_retries)
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal(TcpError.TimedOut, sim.Client.LastError);
        Assert.Equal((ConnectionEvent.Failed, TcpError.TimedOut), sim.Client.Events.Last());
        Assert.Equal(127, sim.Clock.TotalSeconds, 3); // the last RTO of 64 s runs out
        Assert.Equal(TcpState.Listen, sim.Server.State);
    }

    [Fact]
    public void Syn_retries_are_configurable()
    {
        var opts = ScenarioCatalog.NoteOptions with { SynRetries = 2, InitialRto = TimeSpan.FromMilliseconds(500) };
        var sim = ScenarioCatalog.NewNotePair(client: opts);
        sim.Link.Up = false;
        sim.Client.Connect();
        sim.RunUntilIdle(TimeSpan.FromMinutes(1));
        Assert.Equal(TcpError.TimedOut, sim.Client.LastError);
        Assert.Equal(3.5, sim.Clock.TotalSeconds, 3); // 0.5 + 1 + 2
    }

    [Fact]
    public void A_lost_syn_ack_is_answered_by_the_retransmitted_syn()
    {
        // The server's own SYN-ACK timer is slow here, so only the client's retransmitted SYN can help.
        var sim = ScenarioCatalog.NewNotePair(server: ScenarioCatalog.NoteOptions with { InitialRto = TimeSpan.FromSeconds(3) });
        sim.Link.Drop(s => s.Is(TcpFlags.Syn | TcpFlags.Ack), times: 1);
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(TcpState.Established, sim.Client.State);
        Assert.Equal(TcpState.Established, sim.Server.State);
        // The client's SYN retransmission at 1 s makes the server send its SYN-ACK again at once.
        var synAcks = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Segment!.Is(TcpFlags.Syn | TcpFlags.Ack)).Select(e => e.Time.TotalSeconds).ToArray();
        Assert.Equal([0.010, 1.010], synAcks);
    }

    [Fact]
    public void Connect_to_a_closed_port_is_refused_by_one_rst()
    {
        var sim = ScenarioCatalog.NewNotePair();
        sim.Client.Connect(); // the server has no connection at all
        sim.RunUntilIdle();
        Assert.Equal(["client S seq=123456 ack=0 len=0", "server RA seq=0 ack=123457 len=0"], SequenceNumberTests.Rows(sim));
        Assert.Equal(TcpError.ConnectionRefused, sim.Client.LastError);
        Assert.Equal(TcpState.Closed, sim.Client.State);
    }
}
