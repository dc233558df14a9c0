using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

public class SocketOptionTests
{
    private static readonly IpAddr Server = IpAddr.Parse("192.0.2.2");

    private static (SimulatedNetwork, NetworkStack, NetworkStack, MemoryLink, TcpListener) Pair(LinkConditions? link = null)
    {
        var net = new SimulatedNetwork(7);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        var l = net.Connect(link ?? new LinkConditions(), client, server);
        return (net, client, server, l, TcpListener.Start(server, 80));
    }

    [Fact]
    public void Linger_zero_closes_with_a_reset()
    {
        var (net, client, server, _, listener) = Pair();
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            var s = await accept;
            await c.CloseAsync(linger: TimeSpan.Zero);
            var ex = await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(async () => await s.ReadAsync(new byte[1]));
            Assert.Equal(System.Net.Sockets.SocketError.ConnectionReset, ex.SocketErrorCode);
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(0, client.TimeWaitCount); // a reset leaves no TIME-WAIT behind
    }

    [Fact]
    public void Linger_runs_out_on_a_dead_link_and_resets_in_virtual_time()
    {
        var (net, client, _, link, listener) = Pair();
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            await accept;
            link.Up = false;
            await c.WriteAsync(new byte[1000]);
            var before = net.Now;
            await c.CloseAsync(linger: TimeSpan.FromSeconds(5));
            Assert.Equal(5, (net.Now - before).TotalSeconds, 3);
            Assert.Equal(TcpState.Closed, c.State);
        }, TimeSpan.FromMinutes(1));
    }

    [Fact]
    public void The_snapshot_lists_listeners_connections_and_time_wait_like_ss()
    {
        var (net, client, server, _, listener) = Pair();
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            var s = await accept;
            await c.WriteAsync(new byte[10]); // unread by the server: its receive queue holds it
            await Task.Delay(TimeSpan.FromMilliseconds(100), net.TimeProvider);
        }, TimeSpan.FromSeconds(5));
        var lines = server.Snapshot().Select(x => x.ToString()).ToArray();
        Assert.Contains(lines, l => l.StartsWith("LISTEN", StringComparison.Ordinal) && l.Contains("*:80"));
        var est = Assert.Single(server.Snapshot(), x => x.State == TcpState.Established);
        Assert.Equal(10, est.ReceiveQueue);
        Assert.Equal("192.0.2.2:80", est.Local);
        Assert.StartsWith("192.0.2.1:", est.Remote);
    }

    [Fact]
    public void A_link_slower_than_the_sender_drops_what_its_queue_cannot_hold()
    {
        // 100 kB/s with a 5-packet queue: a burst of ten full segments overflows it.
        var (net, client, server, link, listener) = Pair(new LinkConditions { RateBytesPerSecond = 100_000, QueueLimit = 5 });
        long got = 0;
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            var s = await accept;
            await c.WriteAsync(new byte[100_000]);
            c.ShutdownSend();
            var buf = new byte[65536];
            int n;
            while ((n = await s.ReadAsync(buf)) > 0) got += n;
        }, TimeSpan.FromMinutes(5));
        Assert.True(link.TailDropped > 0, "no tail drop");
        Assert.Equal(100_000, got); // and TCP recovered every byte
    }

    [Fact]
    public void Corrupted_packets_fail_the_checksum_and_are_recovered()
    {
        var (net, client, server, link, listener) = Pair(new LinkConditions { Corruption = 0.05, Seed = 9 });
        long got = 0;
        net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            var s = await accept;
            await c.WriteAsync(new byte[200_000]);
            c.ShutdownSend();
            var buf = new byte[65536];
            int n;
            while ((n = await s.ReadAsync(buf)) > 0) got += n;
        }, TimeSpan.FromMinutes(5));
        Assert.True(link.Corrupted > 0);
        Assert.True(server.Statistics.Dropped(DropReason.BadChecksum) + server.Statistics.Dropped(DropReason.Malformed)
                    + client.Statistics.Dropped(DropReason.BadChecksum) + client.Statistics.Dropped(DropReason.Malformed) > 0);
        Assert.Equal(200_000, got);
    }
}
