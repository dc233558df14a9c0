using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// SYN cookies (RFC 4987) on the simulated link: a flood of spoofed SYNs fills a listener's SYN queue
/// and a real client still gets in, with the options the cookie remembered; forged and stale cookies
/// open nothing; the modes Off and Always do what their names say.
/// </summary>
public sealed class SynCookieTests
{
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");
    private static readonly IpAddr Flooder = IpAddr.Parse("198.51.100.7");

    private static (SimulatedNetwork Net, NetworkStack Client, NetworkStack Server) Hosts(ConnectionOptions? client = null, ConnectionOptions? server = null)
    {
        var net = new SimulatedNetwork(3);
        var c = net.AddHost("client", "192.0.2.1", client);
        var s = net.AddHost("server", "192.0.2.2", server);
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5) }, c, s);
        return (net, c, s);
    }

    /// <summary>Spoofed SYNs from an address nobody answers for, each from its own port (hping3 --flood -S).</summary>
    private static void Flood(NetworkStack server, SimulatedNetwork net, int count, int seed = 1, int firstPort = 1024)
    {
        var rng = new Random(seed);
        var buf = new byte[100];
        for (int i = 0; i < count; i++)
        {
            var h = new TcpHeader { SourcePort = (ushort)(firstPort + i % 60000), DestinationPort = 80, Flags = TcpFlags.Syn, Seq = new SeqNum((uint)rng.NextInt64(1L << 32)), Window = 512 };
            h.Options.HasMss = true;
            h.Options.Mss = 1460;
            int n = TcpPacket.Write(buf, Flooder, ServerAddress, in h, TcpOptionLayout.Established, default);
            server.Receive(buf.AsSpan(0, n), net.Now);
        }
    }

    /// <summary>Connects, sends 200 KB each way and closes; returns the client's connection (its options) and whether both ends got the other's bytes.</summary>
    private static (Connection Client, bool Intact) Exchange(SimulatedNetwork net, NetworkStack client, TcpListener listener)
    {
        var up = RandomNumberGenerator.GetBytes(200_000);
        var down = RandomNumberGenerator.GetBytes(200_000);
        return net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, ServerAddress, 80);
            var s = await accept;
            var writes = Task.WhenAll(c.WriteAsync(up).AsTask(), s.WriteAsync(down).AsTask());
            var gotUp = await Reads.Exactly(s, up.Length);
            var gotDown = await Reads.Exactly(c, down.Length);
            await writes;
            await c.CloseAsync();
            await s.CloseAsync();
            return (c.Protocol, gotUp.AsSpan().SequenceEqual(up) && gotDown.AsSpan().SequenceEqual(down));
        }, TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void Connections_waiting_to_be_accepted_do_not_make_the_listener_send_cookies_only_a_full_syn_queue_does()
    {
        // Linux bounds the two queues apart (tcp_conn_request): cookies when the SYN queue is full, a
        // dropped SYN when the accept queue is. Three clients have connected to a backlog of 4 and wait
        // to be accepted; SYNs that follow still get a SYN-ACK with state until four are half-open.
        var (net, client, server) = Hosts();
        _ = TcpListener.Start(server, 80, backlog: 4);
        net.Run(async () =>
        {
            for (int i = 0; i < 3; i++) await TcpConnection.ConnectAsync(client, ServerAddress, 80);
        }, TimeSpan.FromSeconds(10));
        net.RunFor(TimeSpan.FromMilliseconds(50)); // the final ACKs arrive: three in the accept queue
        Assert.Equal(3, server.ConnectionCount);

        Flood(server, net, 4);
        Assert.Equal(0, server.Statistics.SynCookiesSent); // 3 waiting + up to 4 half-open: all with state
        Assert.Equal(7, server.ConnectionCount);

        Flood(server, net, 3, seed: 2, firstPort: 2024);
        Assert.Equal(3, server.Statistics.SynCookiesSent); // the SYN queue is full now
        Assert.Equal(7, server.ConnectionCount);
    }

    [Fact]
    public void A_client_gets_in_by_cookie_while_spoofed_syns_fill_the_queue_and_the_cookie_keeps_its_options()
    {
        var (net, client, server) = Hosts();
        var listener = TcpListener.Start(server, 80, backlog: 16);
        Flood(server, net, 10_000);
        Assert.Equal(16, server.ConnectionCount); // the SYN queue, and nothing more
        Assert.Equal(10_000 - 16, server.Statistics.SynCookiesSent);

        var (c, intact) = Exchange(net, client, listener);
        Assert.True(intact);
        Assert.Equal(1, server.Statistics.SynCookiesValid);
        // Timestamps on both sides: the cookie's TSval brought back window scaling and SACK.
        Assert.True(c.TimestampsNegotiated);
        Assert.True(c.WindowScaleNegotiated);
        Assert.True(c.SackNegotiated);
        Assert.Equal(0, server.Statistics.SynCookiesFailed);
    }

    [Fact]
    public void Without_timestamps_a_cookie_connection_has_no_window_scaling_or_sack_and_still_carries_data()
    {
        var noTimestamps = ConnectionOptions.Default with { Timestamps = false };
        var (net, client, server) = Hosts(client: noTimestamps);
        var listener = TcpListener.Start(server, 80, backlog: 4);
        Flood(server, net, 100);
        var (c, intact) = Exchange(net, client, listener);
        Assert.True(intact);
        Assert.Equal(1, server.Statistics.SynCookiesValid);
        Assert.False(c.WindowScaleNegotiated);
        Assert.False(c.SackNegotiated);
        Assert.Equal(1460, c.SendMss); // the table's 1460 for the client's 1460
    }

    [Fact]
    public void Forged_acks_open_nothing_and_are_answered_with_resets()
    {
        var (net, _, server) = Hosts();
        TcpListener.Start(server, 80, backlog: 4);
        Flood(server, net, 100); // cookies are out: ACKs to the listener are checked from now on
        var rng = new Random(9);
        var buf = new byte[100];
        var guesser = IpAddr.Parse("198.51.100.8"); // not the flooder: no guess may hit one of its half-open tuples
        const int Guesses = 100_000;
        for (int i = 0; i < Guesses; i++)
        {
            var h = new TcpHeader
            {
                SourcePort = (ushort)rng.Next(1024, 65536), DestinationPort = 80, Flags = TcpFlags.Ack,
                Seq = new SeqNum((uint)rng.NextInt64(1L << 32)), Ack = new SeqNum((uint)rng.NextInt64(1L << 32)), Window = 512,
            };
            int n = TcpPacket.Write(buf, guesser, ServerAddress, in h, TcpOptionLayout.Established, default);
            server.Receive(buf.AsSpan(0, n), net.Now);
        }
        Assert.Equal(0, server.Statistics.SynCookiesValid);
        Assert.Equal(Guesses, server.Statistics.SynCookiesFailed);
        Assert.Equal(4, server.ConnectionCount); // the flood's half-open ones, nothing the guesses made
        Assert.True(server.Statistics.ResetsSent >= Guesses);
    }

    [Fact]
    public void A_cookie_returned_after_two_minutes_is_stale_and_refused()
    {
        var (net, _, server) = Hosts(server: ConnectionOptions.Default with { SynCookies = SynCookieMode.Always });
        TcpListener.Start(server, 80);
        var synAcks = new List<TcpHeader>();
        server.AddObserver(new SynAckRecorder(synAcks));
        var syn = new TcpHeader { SourcePort = 4000, DestinationPort = 80, Flags = TcpFlags.Syn, Seq = new SeqNum(1000), Window = 512 };
        var buf = new byte[100];
        int n = TcpPacket.Write(buf, Flooder, ServerAddress, in syn, TcpOptionLayout.Established, default);
        server.Receive(buf.AsSpan(0, n), net.Now);
        var synAck = Assert.Single(synAcks);
        Assert.Equal(0, server.ConnectionCount); // Always: not even a SYN-RECEIVED entry

        var ack = new TcpHeader { SourcePort = 4000, DestinationPort = 80, Flags = TcpFlags.Ack, Seq = new SeqNum(1001), Ack = synAck.Seq + 1, Window = 512 };
        n = TcpPacket.Write(buf, Flooder, ServerAddress, in ack, TcpOptionLayout.Established, default);
        net.RunFor(TimeSpan.FromMinutes(3));
        server.Receive(buf.AsSpan(0, n), net.Now);
        Assert.Equal(0, server.Statistics.SynCookiesValid);
        Assert.Equal(1, server.Statistics.SynCookiesFailed);
        Assert.Equal(0, server.ConnectionCount);

        // The same ACK in time opens the connection.
        server.Receive(buf.AsSpan(0, TcpPacket.Write(buf, Flooder, ServerAddress, in syn, TcpOptionLayout.Established, default)), net.Now);
        var fresh = synAcks[^1];
        ack.Ack = fresh.Seq + 1;
        n = TcpPacket.Write(buf, Flooder, ServerAddress, in ack, TcpOptionLayout.Established, default);
        server.Receive(buf.AsSpan(0, n), net.Now);
        Assert.Equal(1, server.Statistics.SynCookiesValid);
        Assert.Equal(1, server.ConnectionCount);
        Assert.Contains(server.Snapshot(), socket => socket.State == TcpState.Established && socket.Tuple?.RemotePort == 4000);
    }

    [Fact]
    public void With_cookies_off_a_full_syn_queue_drops_the_client_until_the_flood_times_out()
    {
        var off = ConnectionOptions.Default with { SynCookies = SynCookieMode.Off };
        var (net, client, server) = Hosts(server: off);
        TcpListener.Start(server, 80, backlog: 4);
        Flood(server, net, 100);
        Assert.Equal(96, server.Statistics.Dropped(DropReason.ListenQueueFull));
        Assert.Equal(0, server.Statistics.SynCookiesSent);
        Task<TcpConnection>? connect = null;
        net.Run(async () =>
        {
            connect = TcpConnection.ConnectAsync(client, ServerAddress, 80);
            await Task.Delay(0);
        }, TimeSpan.FromSeconds(1));
        net.RunFor(TimeSpan.FromSeconds(5));
        Assert.False(connect!.IsCompleted); // its SYNs (at 0, 1 and 3 s) found the queue full
        Assert.Equal(4, server.ConnectionCount);
    }

    [Fact]
    public void With_cookies_always_every_connection_is_opened_by_one()
    {
        var always = ConnectionOptions.Default with { SynCookies = SynCookieMode.Always };
        var (net, client, server) = Hosts(server: always);
        var listener = TcpListener.Start(server, 80);
        var (_, intact) = Exchange(net, client, listener);
        Assert.True(intact);
        Assert.Equal(1, server.Statistics.SynCookiesSent);
        Assert.Equal(1, server.Statistics.SynCookiesValid);
    }

    private sealed class SynAckRecorder(List<TcpHeader> into) : IStackObserver
    {
        public void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
        {
            if (TcpPacket.TryParse(packet, out _, out var tcp, out _) && tcp.Flags.Has(TcpFlags.Syn | TcpFlags.Ack)) into.Add(tcp);
        }
    }
}
