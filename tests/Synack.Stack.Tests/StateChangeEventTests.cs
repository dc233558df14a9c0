using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A connection tells its state changes as events, not only as log lines: each with its cause and
/// time, after the input that caused it, so a handler may use the socket.
/// </summary>
public sealed class StateChangeEventTests
{
    [Fact]
    public void Both_ends_of_a_four_way_close_hear_every_closing_state_with_its_cause()
    {
        var net = new SimulatedNetwork(seed: 3);
        var (_, _, c, s) = ConnectedPair.Open(net);
        var client = new List<TcpStateChange>();
        var server = new List<TcpStateChange>();
        c.StateChanged += (_, e) => client.Add(e);
        s.StateChanged += (_, e) => server.Add(e);
        net.Run(async () =>
        {
            c.ShutdownSend();
            var buffer = new byte[16];
            Assert.Equal(0, await s.ReadAsync(buffer)); // the client's FIN
            // Longer than the delayed ACK: the FIN's ACK goes alone, and the close takes four segments
            // (closing at once would send FIN+ACK together, and the client would skip FIN-WAIT-2).
            await Task.Delay(TimeSpan.FromSeconds(1), net.TimeProvider);
            await s.CloseAsync();
            Assert.Equal(0, await c.ReadAsync(buffer)); // the server's FIN
        }, TimeSpan.FromSeconds(10));

        Assert.Equal(
            ["ESTABLISHED -> FIN-WAIT-1 (user CLOSE)", "FIN-WAIT-1 -> FIN-WAIT-2 (rcv ACK of FIN)", "FIN-WAIT-2 -> TIME-WAIT (rcv FIN)"],
            client.Select(e => e.ToString()));
        Assert.Equal(
            ["ESTABLISHED -> CLOSE-WAIT (rcv FIN)", "CLOSE-WAIT -> LAST-ACK (user CLOSE)", "LAST-ACK -> CLOSED (rcv ACK of FIN)"],
            server.Select(e => e.ToString()));
        Assert.True(client[0].At < client[1].At && client[1].At < client[2].At, "times on the stack's clock, in order");
    }

    [Fact]
    public void A_socket_subscribed_before_connect_hears_the_handshake_and_its_handler_may_use_the_socket()
    {
        var net = new SimulatedNetwork(seed: 4);
        var clientStack = net.AddHost("client", "192.0.2.1");
        var serverStack = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), clientStack, serverStack);
        TcpListener.Start(serverStack, 80);
        var seen = new List<(TcpStateChange Change, TcpState StateInHandler)>();
        net.Invoke(() =>
        {
            var socket = TcpSocket.Create(clientStack);
            socket.StateChanged += (sender, e) => seen.Add((e, ((TcpSocket)sender!).Protocol!.State));
            Assert.Equal(System.Net.Sockets.SocketError.InProgress, socket.Connect(IpAddr.Parse("192.0.2.2"), 80));
        });
        net.RunFor(TimeSpan.FromSeconds(1));

        Assert.Equal(
            [(TcpState.Closed, TcpState.SynSent), (TcpState.SynSent, TcpState.Established)],
            seen.Select(x => (x.Change.From, x.Change.To)));
        // Told after the input was processed: the socket already shows the new state.
        Assert.All(seen, x => Assert.Equal(x.Change.To, x.StateInHandler));
    }
}
