using System.Net.Sockets;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// The non-blocking socket with BSD's semantics, driven step by step on virtual time: nothing
/// blocks, a call that cannot complete says so, errors wait as SO_ERROR, readiness says when to try again.
/// </summary>
public class TcpSocketTests
{
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");
    private static readonly TimeSpan Rtt = TimeSpan.FromMilliseconds(20);

    private static (SimulatedNetwork Net, NetworkStack Client, NetworkStack Server) TwoHosts()
    {
        var net = new SimulatedNetwork(1);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Latency = Rtt / 2 }, client, server);
        return (net, client, server);
    }

    private static TcpSocket Listening(NetworkStack server, ushort port = 80)
    {
        var l = TcpSocket.Create(server);
        Assert.Equal(SocketError.Success, l.Bind(port));
        Assert.Equal(SocketError.Success, l.Listen(8));
        return l;
    }

    private static (TcpSocket Client, TcpSocket Server) Connected(SimulatedNetwork net, NetworkStack client, NetworkStack server)
    {
        var listener = Listening(server);
        var c = TcpSocket.Create(client);
        Assert.Equal(SocketError.InProgress, c.Connect(ServerAddress, 80));
        net.RunFor(3 * Rtt);
        var s = listener.Accept(out var error);
        Assert.Equal(SocketError.Success, error);
        return (c, s!);
    }

    [Fact]
    public void Connect_is_in_progress_then_already_in_progress_then_connected_and_writable()
    {
        var (net, client, server) = TwoHosts();
        var listener = Listening(server);
        var c = TcpSocket.Create(client);
        Assert.Equal(SocketError.InProgress, c.Connect(ServerAddress, 80));
        Assert.Equal(SocketError.AlreadyInProgress, c.Connect(ServerAddress, 80));
        Assert.Equal(SocketReadiness.None, c.Readiness & SocketReadiness.Writable);
        Assert.Null(listener.Accept(out var wouldBlock));
        Assert.Equal(SocketError.WouldBlock, wouldBlock);

        net.RunFor(3 * Rtt);
        Assert.Equal(TcpState.Established, c.State);
        Assert.True(c.Readiness.HasFlag(SocketReadiness.Writable));
        Assert.Equal(SocketError.IsConnected, c.Connect(ServerAddress, 80));
        Assert.True(listener.Readiness.HasFlag(SocketReadiness.Readable));
        Assert.NotNull(listener.Accept(out _));
    }

    [Fact]
    public void A_refused_connect_leaves_its_error_for_so_error_once()
    {
        var (net, client, _) = TwoHosts();
        var c = TcpSocket.Create(client);
        Assert.Equal(SocketError.InProgress, c.Connect(ServerAddress, 81));
        net.RunFor(3 * Rtt);
        Assert.True(c.Readiness.HasFlag(SocketReadiness.Error));
        Assert.Equal(SocketError.ConnectionRefused, c.TakeError());
        Assert.Equal(SocketError.Success, c.TakeError());
        Assert.True(c.Failed);
        Assert.Equal(TcpState.Closed, c.State);
    }

    [Fact]
    public void Receive_would_block_until_data_arrives_and_peek_leaves_it_in_place()
    {
        var (net, client, server) = TwoHosts();
        var (c, s) = Connected(net, client, server);
        var buf = new byte[100];
        Assert.Equal(0, s.Receive(buf, out var error));
        Assert.Equal(SocketError.WouldBlock, error);
        var readable = s.WaitAsync(SocketReadiness.Readable);
        Assert.False(readable.IsCompleted);

        Assert.Equal(5, c.Send("hello"u8, out error));
        Assert.Equal(SocketError.Success, error);
        net.RunFor(Rtt);
        Assert.True(readable.IsCompletedSuccessfully);
        Assert.Equal(5, s.Receive(buf, out _, peek: true));
        Assert.Equal(5, s.Receive(buf, out _));
        Assert.Equal("hello"u8.ToArray(), buf[..5]);
        Assert.Equal(0, s.Receive(buf, out error));
        Assert.Equal(SocketError.WouldBlock, error);
    }

    [Fact]
    public void Shutdown_gives_the_peer_end_of_stream_and_the_close_completes_when_the_fin_is_acked()
    {
        var (net, client, server) = TwoHosts();
        var (c, s) = Connected(net, client, server);
        Assert.Equal(SocketError.Success, c.Shutdown());
        Assert.Equal(0, c.Send("late"u8, out var late));
        Assert.Equal(SocketError.Shutdown, late);
        net.RunFor(Rtt);
        Assert.Equal(0, s.Receive(new byte[10], out var error));
        Assert.Equal(SocketError.Success, error); // end of stream
        var closed = c.WaitAsync(SocketReadiness.Closed);
        Assert.False(closed.IsCompleted);
        net.RunFor(TimeSpan.FromMilliseconds(100)); // the peer delays the ACK of our FIN
        Assert.True(closed.IsCompletedSuccessfully);
        Assert.Equal(TcpState.FinWait2, c.State);
    }

    [Fact]
    public void A_zero_linger_close_resets_and_the_peer_reads_the_reset_once_then_end_of_stream()
    {
        var (net, client, server) = TwoHosts();
        var (c, s) = Connected(net, client, server);
        c.Linger = TimeSpan.Zero;
        c.Close();
        net.RunFor(Rtt);
        var buf = new byte[10];
        Assert.Equal(0, s.Receive(buf, out var error));
        Assert.Equal(SocketError.ConnectionReset, error);
        Assert.Equal(0, s.Receive(buf, out error));
        Assert.Equal(SocketError.Success, error);
        Assert.Equal(0, s.Send("x"u8, out error));
        Assert.Equal(SocketError.Shutdown, error); // EPIPE
        Assert.Equal(SocketError.NotConnected, s.Shutdown());
    }

    [Fact]
    public void A_connection_reset_while_in_the_accept_queue_is_accepted_with_its_error()
    {
        var (net, client, server) = TwoHosts();
        var listener = Listening(server);
        var c = TcpSocket.Create(client);
        c.Connect(ServerAddress, 80);
        net.RunFor(3 * Rtt);
        c.Abort();
        net.RunFor(Rtt);
        var s = listener.Accept(out var error);
        Assert.Equal(SocketError.Success, error);
        Assert.Equal(SocketError.ConnectionReset, s!.TakeError());
    }

    [Fact]
    public void Closing_a_listener_resets_what_waits_in_its_queue_and_wakes_its_waiters()
    {
        var (net, client, server) = TwoHosts();
        var listener = Listening(server);
        var c = TcpSocket.Create(client);
        c.Connect(ServerAddress, 80);
        net.RunFor(3 * Rtt);
        var other = Listening(server, 81);
        var waiting = other.WaitAsync(SocketReadiness.Readable);
        listener.Close();
        other.Close();
        Assert.True(waiting.IsCompletedSuccessfully);
        Assert.Null(other.Accept(out var error));
        Assert.Equal(SocketError.OperationAborted, error);
        net.RunFor(Rtt);
        Assert.Equal(SocketError.ConnectionReset, c.TakeError());
    }

    [Fact]
    public void Two_listeners_on_one_port_are_refused()
    {
        var (_, _, server) = TwoHosts();
        Listening(server);
        var second = TcpSocket.Create(server);
        Assert.Equal(SocketError.Success, second.Bind(80));
        Assert.Equal(SocketError.AddressAlreadyInUse, second.Listen(8));
        Assert.Equal(SocketError.InvalidArgument, second.Bind(80));
        Assert.Equal(SocketError.AddressNotAvailable, TcpSocket.Create(server).Bind(80, IpAddr.Parse("198.51.100.1")));
    }

    [Fact]
    public void Cancelled_waits_do_not_pile_up()
    {
        var (net, client, server) = TwoHosts();
        var (_, s) = Connected(net, client, server);
        for (int i = 0; i < 10_000; i++)
        {
            using var cts = new CancellationTokenSource();
            var t = s.WaitAsync(SocketReadiness.Readable, cts.Token);
            cts.Cancel();
            Assert.True(t.IsCanceled);
        }
        Assert.True(s.Waiters <= 1, $"{s.Waiters} waiters kept");
    }

    [Fact]
    public void Options_set_on_a_listener_reach_the_connections_it_accepts_afterwards()
    {
        var (net, client, server) = TwoHosts();
        var listener = Listening(server);
        listener.Options = listener.Options with { Mss = 1100 }; // TCP_MAXSEG on the listener
        listener.SetNotSentLowWater(16_384);
        var c = TcpSocket.Create(client);
        Assert.Equal(SocketError.InProgress, c.Connect(ServerAddress, 80));
        net.RunFor(3 * Rtt);
        var s = listener.Accept(out var error);

        Assert.Equal(SocketError.Success, error);
        int timestamps = s!.Protocol!.TimestampsNegotiated ? 12 : 0; // the option's bytes come out of each segment
        Assert.Equal(1100 - timestamps, s.Protocol.SendMss);
        Assert.Equal(1100 - timestamps, c.Protocol!.SendMss); // the SYN-ACK offered it
        Assert.Equal(16_384, s.Protocol.NotSentLowWater);
        Assert.Null(c.Protocol.NotSentLowWater);
    }

    [Fact]
    public void Tcp_info_answers_for_a_socket_without_a_connection_and_for_a_listener()
    {
        var (net, client, server) = TwoHosts();
        Assert.Equal(TcpState.Closed, TcpSocket.Create(server).GetInfo().State);

        var listener = Listening(server); // backlog 8
        Assert.Equal(SocketError.Success, listener.Listen(5)); // listen() again changes the backlog
        var c = TcpSocket.Create(client);
        c.Connect(ServerAddress, 80);
        net.RunFor(3 * Rtt);

        var info = listener.GetInfo();
        Assert.Equal(TcpState.Listen, info.State);
        Assert.Equal(1, info.Unacked); // waiting to be accepted
        Assert.Equal(5, info.Sacked); // the backlog
        listener.Accept(out _);
        Assert.Equal(0, listener.GetInfo().Unacked);
    }
}
