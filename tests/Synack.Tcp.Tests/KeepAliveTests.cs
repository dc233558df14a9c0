using Synack.Scenarios;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>S8, S10, S11: keep-alive and heartbeats, long and short connections, idle costs nothing on the wire.</summary>
public class KeepAliveTests
{
    private static ConnectionOptions KeepAlive(int idle = 10, int interval = 2, int count = 3) => ScenarioCatalog.NoteOptions with
    {
        KeepAlive = true,
        KeepAliveIdle = TimeSpan.FromSeconds(idle),
        KeepAliveInterval = TimeSpan.FromSeconds(interval),
        KeepAliveCount = count,
    };

    private static BareRun Connected(ConnectionOptions? client = null, ConnectionOptions? server = null)
    {
        var sim = ScenarioCatalog.ConnectedNotePair(client, server);
        Assert.Equal(TcpState.Established, sim.Client.State);
        return sim;
    }

    [Fact]
    public void S8_probes_carry_snd_nxt_minus_one_and_a_live_peer_keeps_the_connection()
    {
        var sim = Connected(client: KeepAlive());
        sim.RunFor(TimeSpan.FromMinutes(2));
        Assert.Equal(TcpState.Established, sim.Client.State);
        var probes = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.IsPureAck && e.Segment.Seq == new SeqNum(ScenarioCatalog.ClientIsn)).ToArray();
        Assert.True(probes.Length >= 10, $"{probes.Length} probes");
        var snd = sim.Client.Connection!.SndNxt;
        Assert.All(probes, p => Assert.Equal(snd - 1, p.Segment!.Seq));
        // Each probe is answered with an ACK for RCV.NXT, and the next probe waits a full idle time.
        var gaps = probes.Zip(probes.Skip(1), (a, b) => (b.Time - a.Time).TotalSeconds).Distinct().ToArray();
        Assert.Equal([10.02], gaps.Select(g => Math.Round(g, 3)));
    }

    [Fact]
    public void S8_a_dead_peer_ends_the_connection_with_a_timeout_after_idle_plus_count_intervals()
    {
        var sim = Connected(client: KeepAlive(idle: 10, interval: 2, count: 3));
        var lastHeard = sim.Trace.Entries.Last(e => e.Kind == TraceKind.Delivered && e.Endpoint == "client").Time; // the SYN-ACK
        sim.Link.Up = false;
        sim.RunUntilIdle(TimeSpan.FromMinutes(5));
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal(TcpError.TimedOut, sim.Client.LastError);
        var failedAt = sim.Trace.Entries.Single(e => e.Kind == TraceKind.StateChanged && e.Endpoint == "client" && e.To == TcpState.Closed).Time;
        Assert.Equal(lastHeard + TimeSpan.FromSeconds(10 + 3 * 2), failedAt);
        var probes = sim.Trace.Entries.Count(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.IsPureAck && e.Segment.Seq == new SeqNum(ScenarioCatalog.ClientIsn));
        Assert.Equal(3, probes);
        // Giving up, it resets the connection in case the peer is still there.
        Assert.Equal(TcpFlags.Rst | TcpFlags.Ack, sim.Trace.Entries.Last(e => e.Kind == TraceKind.Sent).Segment!.Flags);
    }

    [Fact]
    public void Keep_alive_is_off_by_default_and_an_idle_connection_sends_nothing_for_an_hour()
    {
        var sim = Connected();
        int before = sim.Trace.Entries.Count(e => e.Kind == TraceKind.Sent);
        sim.RunFor(TimeSpan.FromHours(1));
        Assert.Equal(before, sim.Trace.Entries.Count(e => e.Kind == TraceKind.Sent));
        Assert.Equal(TcpState.Established, sim.Client.State);
        Assert.Equal(TimeSpan.MaxValue, sim.Client.Connection!.NextDeadline);
        Assert.Equal(TimeSpan.MaxValue, sim.Server.Connection!.NextDeadline);
    }

    [Fact]
    public void The_peer_answers_keep_alive_probes_without_any_setting_of_its_own()
    {
        var sim = Connected(client: KeepAlive());
        sim.RunFor(TimeSpan.FromSeconds(11));
        var answer = sim.Trace.Entries.Last(e => e.Kind == TraceKind.Delivered && e.Segment!.From == "server").Segment!;
        Assert.True(answer.IsPureAck);
        Assert.Equal(sim.Client.Connection!.SndNxt, answer.Ack);
    }

    /// <summary>The server application closes connections idle for 10 s; heartbeats every 4 s keep one open.</summary>
    private static BareRun IdleServer(bool heartbeats, TimeSpan runFor)
    {
        var sim = Connected();
        var lastActivity = sim.Clock;
        sim.Server.OnEvent = (ep, e) => { if (e == ConnectionEvent.DataReadable) lastActivity = sim.Clock; };
        void CheckIdle()
        {
            if (sim.Server.State != TcpState.Established) return;
            if (sim.Clock - lastActivity >= TimeSpan.FromSeconds(10)) sim.Server.Close();
            else sim.Schedule(sim.Clock + TimeSpan.FromSeconds(1), CheckIdle);
        }
        void Heartbeat()
        {
            if (sim.Client.State != TcpState.Established) return;
            sim.Client.Send("ping"u8);
            sim.Schedule(sim.Clock + TimeSpan.FromSeconds(4), Heartbeat);
        }
        sim.Schedule(sim.Clock + TimeSpan.FromSeconds(1), CheckIdle);
        if (heartbeats) sim.Schedule(sim.Clock + TimeSpan.FromSeconds(4), Heartbeat);
        sim.Client.CloseOnEndOfStream = true;
        sim.RunFor(runFor);
        return sim;
    }

    [Fact]
    public void S8_S10_a_server_closes_a_connection_that_stays_idle()
    {
        var sim = IdleServer(heartbeats: false, TimeSpan.FromMinutes(2));
        var closeAt = sim.Trace.Entries.First(e => e.Kind == TraceKind.StateChanged && e.Endpoint == "server" && e.To == TcpState.FinWait1).Time;
        Assert.InRange(closeAt.TotalSeconds, 10, 11.2);
        Assert.Contains(TcpState.TimeWait, sim.Trace.StatesOf("server")); // the server closed first...
        Assert.DoesNotContain(TcpState.TimeWait, sim.Trace.StatesOf("client")); // ...so TIME-WAIT is its burden
        Assert.Equal(TcpState.Closed, sim.Client.State);
    }

    [Fact]
    public void S8_S10_application_heartbeats_keep_a_long_connection_open()
    {
        var sim = IdleServer(heartbeats: true, TimeSpan.FromMinutes(2));
        Assert.Equal(TcpState.Established, sim.Server.State);
        Assert.Equal(TcpState.Established, sim.Client.State);
        Assert.Equal(29 * 4, sim.Server.ReceivedBytes.Length); // a ping every 4 s for two minutes
    }

    [Fact]
    public void S10_a_short_connection_is_one_exchange_a_long_one_is_many_on_one_handshake()
    {
        var shortOne = ScenarioCatalog.CombinedFin();
        Assert.Single(shortOne.Trace.Delivered(), s => s.Is(TcpFlags.Syn));

        var sim = Connected();
        for (int i = 0; i < 100; i++)
        {
            sim.Client.Send(50);
            sim.RunFor(TimeSpan.FromMilliseconds(30));
            sim.Server.Send(500, (byte)'A');
            sim.RunFor(TimeSpan.FromMilliseconds(30));
        }
        Assert.Equal(5000, sim.Server.ReceivedBytes.Length);
        Assert.Equal(50000, sim.Client.ReceivedBytes.Length);
        Assert.Single(sim.Trace.Delivered(), s => s.Is(TcpFlags.Syn));
    }
}
