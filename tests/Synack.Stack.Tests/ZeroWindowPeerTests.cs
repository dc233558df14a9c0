using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A peer that holds its window shut forever, answering every probe: RFC 1122 4.2.2.17 keeps the
/// connection open for as long as the application wants it (memory bounded by the send buffer), and
/// once the application has closed, the orphan is dropped after its retries (Linux's tcp_orphan_retries)
/// instead of holding its buffer for ever.
/// </summary>
public sealed class ZeroWindowPeerTests
{
    private static (SimulatedNetwork Net, NetworkStack Client, TcpConnection Sender, Task Writing) Stuck(int? orphanRetries = 8)
    {
        var net = new SimulatedNetwork(14);
        var client = net.AddHost("client", "192.0.2.1", ConnectionOptions.Default with { SendBufferSize = 64 * 1024, SendBufferMax = null, OrphanRetries = orphanRetries });
        var server = net.AddHost("server", "192.0.2.2", ConnectionOptions.Default with { ReceiveBufferSize = 16 * 1024, ReceiveBufferMax = null });
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(10) }, client, server);
        var listener = TcpListener.Start(server, 80);
        Task writing = Task.CompletedTask;
        var sender = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            await accept; // its application never reads: the window shuts and stays shut
            writing = c.WriteAsync(new byte[1 << 20]).AsTask();
            return c;
        }, TimeSpan.FromSeconds(10));
        net.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(0u, sender.Protocol.SndWnd);
        return (net, client, sender, writing);
    }

    [Fact]
    public void While_its_application_holds_it_the_connection_waits_for_the_window_with_memory_bounded_by_the_send_buffer()
    {
        var (net, _, sender, writing) = Stuck();
        net.RunFor(TimeSpan.FromHours(3));
        Assert.Equal(TcpState.Established, sender.State);
        Assert.False(writing.IsCompleted);
        Assert.True(sender.Protocol.SendQueued <= 64 * 1024, $"{sender.Protocol.SendQueued} bytes queued");
    }

    [Fact]
    public void Once_its_application_closes_the_orphan_is_dropped_after_its_retries()
    {
        var (net, client, sender, _) = Stuck();
        sender.Close();
        net.RunFor(TimeSpan.FromMinutes(30));
        Assert.Equal(0, client.ConnectionCount);
        Assert.Equal(TcpError.TimedOut, sender.Protocol.Error);
    }

    [Fact]
    public void Without_orphan_retries_as_in_bsd_the_orphan_waits_as_long_as_the_peer_answers()
    {
        var (net, client, sender, _) = Stuck(orphanRetries: null);
        sender.Close();
        net.RunFor(TimeSpan.FromMinutes(30));
        Assert.Equal(1, client.ConnectionCount);
        Assert.Equal(TcpState.FinWait1, sender.State);
    }
}
