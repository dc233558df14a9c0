using System.Net.Sockets;
using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

public class StackTests
{
    private static readonly IpAddr ClientAddress = IpAddr.Parse("192.0.2.1");
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");

    private static (SimulatedNetwork Net, NetworkStack Client, NetworkStack Server, MemoryLink Link) TwoHosts(LinkConditions? link = null, ConnectionOptions? options = null, int seed = 1)
    {
        var net = new SimulatedNetwork(seed);
        var client = net.AddHost("client", "192.0.2.1", options);
        var server = net.AddHost("server", "192.0.2.2", options);
        var l = net.Connect(link ?? new LinkConditions(), client, server);
        return (net, client, server, l);
    }

    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    [Fact]
    public void A_connection_through_the_socket_api_moves_data_both_ways_and_closes()
    {
        var (net, client, server, _) = TwoHosts();
        var listener = TcpListener.Start(server, 80);
        var up = Bytes(300_000, 1);
        var down = Bytes(200_000, 2);
        byte[]? gotUp = null, gotDown = null;
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync().AsTask();
            var c = await TcpConnection.ConnectAsync(client, ServerAddress, 80);
            var s = await accept;
            var readUp = Reads.ToEnd(s);
            await c.WriteAsync(up);
            c.ShutdownSend();
            gotUp = await readUp;
            await s.WriteAsync(down);
            await s.CloseAsync();
            gotDown = await Reads.ToEnd(c);
            await c.CloseAsync();
        }, TimeSpan.FromMinutes(1));
        Assert.Equal(SHA256.HashData(up), SHA256.HashData(gotUp!));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(gotDown!));
        // The client shut down first, so the client holds TIME-WAIT.
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(0, server.ConnectionCount);
        Assert.Equal(1, client.TimeWaitCount);
        Assert.Equal(0, client.ConnectionCount);
        net.RunFor(TimeSpan.FromSeconds(61));
        Assert.Equal(0, client.TimeWaitCount);
    }

    [Fact]
    public void Connect_to_a_closed_port_is_refused_after_one_rst()
    {
        var (net, client, server, _) = TwoHosts();
        var error = net.Run(async () =>
        {
            var ex = await Assert.ThrowsAsync<SocketException>(() => TcpConnection.ConnectAsync(client, ServerAddress, 81));
            return ex.SocketErrorCode;
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(SocketError.ConnectionRefused, error);
        Assert.Equal(1, server.Statistics.ResetsSent);
        Assert.Equal(1, server.Statistics.Dropped(DropReason.NoConnection));
        Assert.Equal(0, client.ConnectionCount);
    }

    [Fact]
    public void Connect_to_a_host_that_never_answers_times_out()
    {
        var (net, client, _, link) = TwoHosts(options: new ConnectionOptions { SynRetries = 2 });
        link.Up = false;
        var error = net.Run(async () => (await Assert.ThrowsAsync<SocketException>(() => TcpConnection.ConnectAsync(client, ServerAddress, 80))).SocketErrorCode, TimeSpan.FromMinutes(1));
        Assert.Equal(SocketError.TimedOut, error);
        Assert.Equal(7, net.Now.TotalSeconds, 3); // 1 + 2 + 4
    }

    [Fact]
    public void Without_cookies_a_full_accept_queue_drops_new_syns_and_they_get_in_once_it_drains()
    {
        // Cookies off: with them the third and fourth SYN would get a cookie SYN-ACK (SynCookieTests).
        var (net, client, server, _) = TwoHosts(options: ConnectionOptions.Default with { SynCookies = SynCookieMode.Off });
        var listener = TcpListener.Start(server, 80, backlog: 2);
        var connects = new List<Task<TcpConnection>>();
        net.Run(async () =>
        {
            for (int i = 0; i < 4; i++) connects.Add(TcpConnection.ConnectAsync(client, ServerAddress, 80));
            await Task.Delay(0);
        }, TimeSpan.FromSeconds(1));
        net.RunFor(TimeSpan.FromMilliseconds(500));
        Assert.Equal(2, connects.Count(t => t.IsCompletedSuccessfully));
        Assert.Equal(2, server.Statistics.Dropped(DropReason.ListenQueueFull));
        // Accepting makes room; the SYN retransmissions (at 1 s) get in.
        var accepted = net.Run(async () =>
        {
            var all = new List<TcpConnection>();
            for (int i = 0; i < 4; i++) all.Add(await listener.AcceptAsync());
            return all.Count;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(4, accepted);
        Assert.All(connects, t => Assert.True(t.IsCompletedSuccessfully));
    }

    [Fact]
    public void Packets_not_for_this_host_and_bad_checksums_are_dropped_and_counted()
    {
        var (net, client, server, _) = TwoHosts();
        var h = new TcpHeader { SourcePort = 1, DestinationPort = 80, Flags = TcpFlags.Syn, Seq = new SeqNum(5) };
        var buf = new byte[100];
        int n = TcpPacket.Write(buf, ClientAddress, IpAddr.Parse("198.51.100.9"), in h, TcpOptionLayout.Established, default);
        server.Receive(buf.AsSpan(0, n), net.Now);
        n = TcpPacket.Write(buf, ClientAddress, ServerAddress, in h, TcpOptionLayout.Established, default);
        buf[n - 1] ^= 1;
        server.Receive(buf.AsSpan(0, n), net.Now);
        server.Receive(new byte[7], net.Now);
        Assert.Equal(1, server.Statistics.Dropped(DropReason.NotForThisHost));
        Assert.Equal(1, server.Statistics.Dropped(DropReason.BadChecksum));
        Assert.Equal(1, server.Statistics.Dropped(DropReason.Malformed));
        Assert.Equal(0, server.Statistics.ResetsSent);
    }

    [Fact]
    public void A_new_syn_with_a_higher_isn_reopens_a_tuple_in_time_wait()
    {
        var (net, client, server, _) = TwoHosts();
        var listener = TcpListener.Start(server, 80);
        ushort clientPort = 0;
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync().AsTask();
            var c = await TcpConnection.ConnectAsync(client, ServerAddress, 80);
            clientPort = c.Tuple.LocalPort;
            var s = await accept;
            await s.CloseAsync(); // the server closes first: the server holds TIME-WAIT
            Assert.Equal(0, await c.ReadAsync(new byte[10]));
            await c.CloseAsync();
        }, TimeSpan.FromSeconds(5));
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.True(1 == server.TimeWaitCount, string.Join("\n", server.Snapshot().Concat(client.Snapshot())));
        // Ten seconds later (the RFC 6528 clock has moved on), the same client port connects again.
        net.RunFor(TimeSpan.FromSeconds(10));
        var reopened = net.Run(async () =>
        {
            var accept = listener.AcceptAsync().AsTask();
            var sc = client.Connect(ServerAddress, 80, null, clientPort, null, null);
            await accept;
            return sc.Connection.State;
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(TcpState.Established, reopened);
        Assert.Equal(1, server.Statistics.TimeWaitReused);
        Assert.Equal(0, server.TimeWaitCount);
    }

    [Fact]
    public void Ten_thousand_connections_between_two_hosts_are_independent()
    {
        var (net, client, server, _) = TwoHosts();
        var listener = TcpListener.Start(server, 80, backlog: 20_000);
        var conns = new List<TcpConnection>();
        var accepted = new List<TcpConnection>();
        net.Run(async () =>
        {
            var tasks = new List<Task<TcpConnection>>();
            for (int i = 0; i < 10_000; i++) tasks.Add(TcpConnection.ConnectAsync(client, ServerAddress, 80));
            conns.AddRange(await Task.WhenAll(tasks));
            for (int i = 0; i < 10_000; i++) accepted.Add(await listener.AcceptAsync());
        }, TimeSpan.FromMinutes(1));
        Assert.Equal(10_000, conns.Select(c => c.Tuple).Distinct().Count());
        Assert.Equal(10_000, server.ConnectionCount);
        // Aborting one touches no other.
        conns[5000].Abort();
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(9_999, server.ConnectionCount);
        Assert.Equal(9_999, client.ConnectionCount);
        Assert.Equal(TcpState.Closed, accepted.Single(a => a.Tuple.RemotePort == conns[5000].Tuple.LocalPort).State);
        // Idle established connections with keep-alive off send nothing for an hour.
        long before = client.Statistics.PacketsOut + server.Statistics.PacketsOut;
        net.RunFor(TimeSpan.FromHours(1));
        Assert.Equal(before, client.Statistics.PacketsOut + server.Statistics.PacketsOut);
    }
}

public class Ipv6Tests
{
    [Fact]
    public void The_stack_speaks_ipv6_with_the_right_pseudo_header_and_default_mss()
    {
        var net = new SimulatedNetwork(2);
        var client = net.AddHost("client", "2001:db8::1");
        var server = net.AddHost("server", "2001:db8::2");
        net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 80);
        var got = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("2001:db8::2"), 80);
            var s = await accept;
            await c.WriteAsync(new byte[50_000]);
            c.ShutdownSend();
            long n = 0;
            var buf = new byte[8192];
            int r;
            while ((r = await s.ReadAsync(buf)) > 0) n += r;
            Assert.True(c.Tuple.LocalAddress.IsV6);
            return n;
        }, TimeSpan.FromSeconds(10));
        Assert.Equal(50_000, got);
        Assert.Equal(0, server.Statistics.DroppedTotal);
    }

    [Fact]
    public void A_duplicating_link_delivers_every_byte_once()
    {
        var net = new SimulatedNetwork(3);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        var link = net.Connect(new LinkConditions { Duplication = 0.1, Seed = 3 }, client, server);
        var listener = TcpListener.Start(server, 80);
        var data = new byte[100_000];
        new Random(1).NextBytes(data);
        var got = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            var s = await accept;
            await c.WriteAsync(data);
            c.ShutdownSend();
            var ms = new MemoryStream();
            var buf = new byte[8192];
            int r;
            while ((r = await s.ReadAsync(buf)) > 0) ms.Write(buf, 0, r);
            return ms.ToArray();
        }, TimeSpan.FromSeconds(30));
        Assert.True(link.Duplicated > 0);
        Assert.Equal(data, got);
    }
}

public class HostilePacketTests
{
    /// <summary>
    /// 100,000 random and half-valid packets at a host with a listener and live connections: nothing
    /// throws, the half-open connections stay within the backlog, and the live connections survive.
    /// </summary>
    [Fact]
    public void A_flood_of_random_packets_neither_crashes_the_host_nor_grows_it_without_bound()
    {
        var net = new SimulatedNetwork(11);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 80, backlog: 64);
        TcpConnection? live = null;
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            live = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            await accept;
        }, TimeSpan.FromSeconds(5));
        var rng = new Random(12);
        var buf = new byte[1600];
        var src = IpAddr.Parse("198.51.100.7");
        var dst = IpAddr.Parse("192.0.2.2");
        for (int i = 0; i < 100_000; i++)
        {
            int n;
            if (rng.Next(4) == 0)
            {
                n = rng.Next(0, 120);
                rng.NextBytes(buf.AsSpan(0, n));
            }
            else
            {
                var h = new TcpHeader
                {
                    SourcePort = (ushort)rng.Next(1, 65536),
                    DestinationPort = rng.Next(3) == 0 ? (ushort)rng.Next(1, 65536) : (ushort)80,
                    Seq = new SeqNum((uint)rng.NextInt64(0, 1L << 32)),
                    Ack = new SeqNum((uint)rng.NextInt64(0, 1L << 32)),
                    Flags = rng.Next(3) == 0 ? TcpFlags.Syn : (TcpFlags)rng.Next(256),
                    Window = (ushort)rng.Next(65536),
                };
                n = TcpPacket.Write(buf, src, dst, in h, TcpOptionLayout.Established, new byte[rng.Next(0, 100)]);
                if (rng.Next(10) == 0) buf[rng.Next(n)] ^= 0xFF;
            }
            server.Receive(buf.AsSpan(0, n), net.Now);
            if (i % 1000 == 0) net.RunFor(TimeSpan.FromMilliseconds(100));
            Assert.True(server.ConnectionCount <= 64 + 1, $"{server.ConnectionCount} connections");
        }
        Assert.True(server.Statistics.SynCookiesSent > 0); // the SYN queue filled, and cookies answered the rest
        Assert.Equal(0, server.Statistics.SynCookiesValid);
        Assert.Equal(TcpState.Established, live!.State);
        net.RunFor(TimeSpan.FromMinutes(3)); // the half-open ones give up (SYN-ACK retries) and are freed
        Assert.Equal(1, server.ConnectionCount);
    }
}
