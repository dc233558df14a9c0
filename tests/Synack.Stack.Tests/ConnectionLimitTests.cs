using System.Net.Sockets;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A stack told to hold at most N connections refuses the next one — an active open with
/// TooManyOpenSockets, a SYN by dropping it (counted) — and keeps serving the N; a listener's own
/// limit leaves the stack's other listeners alone.
/// </summary>
public sealed class ConnectionLimitTests
{
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");

    private static (SimulatedNetwork Net, NetworkStack Client, NetworkStack Server) Hosts(int clientLimit = 2_000_000, int serverLimit = 2_000_000, int perListener = int.MaxValue)
    {
        var net = new SimulatedNetwork(8);
        var client = net.AddHost(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")], MaxConnections = clientLimit });
        var server = net.AddHost(new StackOptions { Name = "server", Addresses = [ServerAddress], MaxConnections = serverLimit, MaxConnectionsPerListener = perListener });
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(2) }, client, server);
        return (net, client, server);
    }

    /// <summary>Each connection echoes one message: the N held still work.</summary>
    private static async Task<bool> AllEcho(IReadOnlyList<TcpConnection> clients, IReadOnlyList<TcpConnection> servers)
    {
        for (int i = 0; i < clients.Count; i++)
        {
            await clients[i].WriteAsync(new[] { (byte)i });
            var one = new byte[1];
            if (await servers[i].ReadAsync(one) != 1 || one[0] != (byte)i) return false;
        }
        return true;
    }

    [Fact]
    public void The_connect_past_the_stack_s_limit_fails_with_too_many_open_sockets_and_the_others_go_on()
    {
        var (net, client, server) = Hosts(clientLimit: 5);
        var listener = TcpListener.Start(server, 80);
        var (error, echoed, afterClose) = net.Run(async () =>
        {
            var clients = new List<TcpConnection>();
            var servers = new List<TcpConnection>();
            for (int i = 0; i < 5; i++)
            {
                var accept = listener.AcceptAsync();
                clients.Add(await TcpConnection.ConnectAsync(client, ServerAddress, 80));
                servers.Add(await accept);
            }
            var error = await Record.ExceptionAsync(() => TcpConnection.ConnectAsync(client, ServerAddress, 80));
            bool echoed = await AllEcho(clients, servers);
            clients[0].Abort(); // one gone: room for one more
            var again = await TcpConnection.ConnectAsync(client, ServerAddress, 80);
            return (error, echoed, again.State);
        }, TimeSpan.FromMinutes(1));
        Assert.Equal(SocketError.TooManyOpenSockets, Assert.IsType<SocketException>(error).SocketErrorCode);
        Assert.True(echoed);
        Assert.Equal(TcpState.Established, afterClose);
    }

    [Fact]
    public void A_syn_past_the_server_s_limit_is_dropped_and_counted_while_the_held_connections_serve()
    {
        var (net, client, server) = Hosts(serverLimit: 3);
        var listener = TcpListener.Start(server, 80);
        var (late, echoed) = net.Run(async () =>
        {
            var clients = new List<TcpConnection>();
            var servers = new List<TcpConnection>();
            for (int i = 0; i < 3; i++)
            {
                var accept = listener.AcceptAsync();
                clients.Add(await TcpConnection.ConnectAsync(client, ServerAddress, 80));
                servers.Add(await accept);
            }
            var late = TcpConnection.ConnectAsync(client, ServerAddress, 80);
            bool echoed = await AllEcho(clients, servers);
            return (late, echoed);
        }, TimeSpan.FromMinutes(1));
        net.RunFor(TimeSpan.FromSeconds(5));
        Assert.True(echoed);
        Assert.False(late.IsCompleted); // its SYNs (0, 1 and 3 s) were dropped
        Assert.Equal(3, server.Statistics.Dropped(DropReason.ConnectionLimit));
        Assert.Equal(3, server.ConnectionCount);
    }

    [Fact]
    public void A_listener_s_limit_stops_its_own_port_only()
    {
        var (net, client, server) = Hosts(perListener: 2);
        var web = TcpListener.Start(server, 80);
        var mail = TcpListener.Start(server, 25);
        var (third, other) = net.Run(async () =>
        {
            for (int i = 0; i < 2; i++)
            {
                var accept = web.AcceptAsync();
                await TcpConnection.ConnectAsync(client, ServerAddress, 80);
                await accept;
            }
            var third = TcpConnection.ConnectAsync(client, ServerAddress, 80);
            var acceptMail = mail.AcceptAsync();
            var other = await TcpConnection.ConnectAsync(client, ServerAddress, 25);
            await acceptMail;
            return (third, other.State);
        }, TimeSpan.FromMinutes(1));
        net.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(TcpState.Established, other);
        Assert.False(third.IsCompleted);
        Assert.True(server.Statistics.Dropped(DropReason.ConnectionLimit) >= 1);
    }

    [Fact]
    public void Closes_past_the_orphan_limit_are_resets()
    {
        var net = new SimulatedNetwork(8);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost(new StackOptions { Name = "server", Addresses = [ServerAddress], MaxOrphans = 2 });
        var link = net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(2) }, client, server);
        var listener = TcpListener.Start(server, 80);
        var servers = net.Run(async () =>
        {
            var all = new List<TcpConnection>();
            for (int i = 0; i < 4; i++)
            {
                var accept = listener.AcceptAsync();
                await TcpConnection.ConnectAsync(client, ServerAddress, 80);
                all.Add(await accept);
            }
            return all;
        }, TimeSpan.FromSeconds(10));
        link.Partition(client); // no FIN gets acknowledged: each close leaves an orphan draining
        foreach (var s in servers) s.Close();
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(2, server.OrphanCount);
        Assert.Equal(2, server.Statistics.OrphansReset);
        Assert.Equal(2, server.ConnectionCount);
        Assert.All(servers.Take(2), s => Assert.Equal(TcpState.FinWait1, s.State));
    }
}
