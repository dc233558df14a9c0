using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// The README's first example, as it stands there: it must run on virtual time and end in a clean
/// close (both FINs acknowledged, no RST), which it did not (the server closed with "hello" unread).
/// </summary>
public sealed class ReadmeFirstExampleTests
{
    [Fact]
    public void The_first_example_ends_in_a_clean_four_way_close()
    {
        var changes = new List<TcpStateChange>();

        var net = new SimulatedNetwork(seed: 1);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5), Loss = 0.01 }, client, server);
        var listener = TcpListener.Start(server, 80);
        net.Run(async () =>
        {
            var accepted = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            var s = await accepted;
            c.StateChanged += (_, change) => changes.Add(change);
            await c.GetStream().WriteAsync("hello"u8.ToArray());
            c.ShutdownSend();
            var buffer = new byte[64];
            while (await s.ReadAsync(buffer) > 0) { }
            await s.CloseAsync();
            while (await c.ReadAsync(buffer) > 0) { }
        }, TimeSpan.FromMinutes(1));
        Assert.Equal(0, client.Statistics.ResetsSent + server.Statistics.ResetsSent);
        Assert.Equal(TcpState.FinWait1, changes[0].To);
        Assert.Equal(TcpState.TimeWait, changes[^1].To);
        Assert.Contains(server.Snapshot(), l => l.State == TcpState.Listen);
    }
}
