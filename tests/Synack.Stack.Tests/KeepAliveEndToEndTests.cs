using System.Net.Sockets;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>S8 through the socket API: an idle-closing server, heartbeats, and keep-alive finding a vanished peer.</summary>
public class KeepAliveEndToEndTests
{
    private static readonly IpAddr Server = IpAddr.Parse("192.0.2.2");

    /// <summary>The server reads with an idle timeout of 10 s and closes the connection when it runs out.</summary>
    private static async Task<TimeSpan> IdleClosingServer(TcpListener listener, TimeProvider time)
    {
        var s = await listener.AcceptAsync();
        var buf = new byte[100];
        while (true)
        {
            using var idle = new CancellationTokenSource(TimeSpan.FromSeconds(10), time);
            try
            {
                if (await s.ReadAsync(buf, idle.Token) == 0) break;
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
        var closedAt = time.GetElapsedTime(0);
        await s.CloseAsync();
        return closedAt;
    }

    [Fact]
    public void A_server_closes_a_connection_that_stays_idle()
    {
        var net = new SimulatedNetwork(3);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 80);
        var (closedAt, eof) = net.Run(async () =>
        {
            var serverTask = IdleClosingServer(listener, net.TimeProvider);
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            int n = await c.ReadAsync(new byte[10]); // waits for the server's FIN
            return (await serverTask, n);
        }, TimeSpan.FromMinutes(1));
        Assert.Equal(0, eof);
        Assert.Equal(10.0, closedAt.TotalSeconds, 1);
    }

    [Fact]
    public void Application_heartbeats_keep_a_long_connection_open()
    {
        var net = new SimulatedNetwork(4);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 80);
        var time = net.TimeProvider;
        var serverTask = (Task<TimeSpan>?)null;
        net.Run(async () =>
        {
            serverTask = IdleClosingServer(listener, time);
            var c = await TcpConnection.ConnectAsync(client, Server, 80);
            for (int i = 0; i < 30; i++) // two minutes of heartbeats, one every 4 s
            {
                await Task.Delay(TimeSpan.FromSeconds(4), time);
                await c.WriteAsync("ping"u8.ToArray());
            }
            Assert.Equal(TcpState.Established, c.State);
        }, TimeSpan.FromMinutes(5));
        Assert.False(serverTask!.IsCompleted); // still open after two minutes
        Assert.True(net.Now >= TimeSpan.FromMinutes(2));
    }

    [Fact]
    public void Keep_alive_finds_a_vanished_peer_and_reads_fail_with_timed_out()
    {
        var net = new SimulatedNetwork(5);
        var keepAlive = new ConnectionOptions
        {
            KeepAlive = true,
            KeepAliveIdle = TimeSpan.FromSeconds(30),
            KeepAliveInterval = TimeSpan.FromSeconds(5),
            KeepAliveCount = 4,
        };
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        var link = net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 80);
        var (error, at) = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, Server, 80, keepAlive);
            await accept;
            await Task.Delay(TimeSpan.FromSeconds(60), net.TimeProvider); // probes answered meanwhile
            Assert.Equal(TcpState.Established, c.State);
            link.Up = false; // the peer vanishes
            var ex = await Assert.ThrowsAsync<SocketException>(async () => await c.ReadAsync(new byte[10]));
            return (ex.SocketErrorCode, net.Now);
        }, TimeSpan.FromMinutes(10));
        Assert.Equal(SocketError.TimedOut, error);
        // The last probe answered came back at 30.02 s (the one at 60.02 s went into the void):
        // 30 s idle, then four probes 5 s apart, then the verdict.
        Assert.Equal(30.02 + 30 + 4 * 5, at.TotalSeconds, 2);
    }
}
