using System.Diagnostics;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.KernelBench;

/// <summary>Two Synack stacks in this process, each on a thread of its own, packets handed across in memory.</summary>
internal sealed class SynackPeers : IBenchPeers
{
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");
    private readonly StackThread _client;
    private readonly StackThread _server;
    private ushort _nextPort = 5000;

    public SynackPeers(ConnectionOptions options)
    {
        _client = new StackThread(new NetworkStack(new StackOptions { Name = "bench-client", Addresses = [IpAddr.Parse("192.0.2.1")], Connection = options, DefaultBacklog = 1024 }));
        _server = new StackThread(new NetworkStack(new StackOptions { Name = "bench-server", Addresses = [ServerAddress], Connection = options, DefaultBacklog = 1024 }));
        var link = new ThreadLink();
        link.Attach(_client);
        link.Attach(_server);
    }

    public async Task<TimeSpan> BulkAsync(long bytes)
    {
        var (client, server) = await OpenAsync();
        var elapsed = await StreamWorkloads.BulkAsync(client.GetStream(), server.GetStream(), bytes, client.ShutdownSend);
        client.Abort();
        server.Abort();
        return elapsed;
    }

    public async Task<TimeSpan> ShortConnectionsAsync(int count, int parallel)
    {
        ushort port = _nextPort++;
        var listener = TcpListener.Start(_server.Stack, port, 1024);
        try
        {
            return await StreamWorkloads.ShortConnectionsAsync(count, parallel,
                async () =>
                {
                    var c = await TcpConnection.ConnectAsync(_client.Stack, ServerAddress, port);
                    await StreamWorkloads.AskOnceAsync(c.GetStream());
                    c.Abort();
                },
                async stop => (await listener.AcceptAsync(stop)).GetStream());
        }
        finally
        {
            listener.Stop();
        }
    }

    public async Task<double[]> PingPongAsync(int rounds)
    {
        var (client, server) = await OpenAsync();
        var times = await StreamWorkloads.PingPongAsync(client.GetStream(), server.GetStream(), rounds, client.ShutdownSend);
        client.Abort();
        server.Abort();
        return times;
    }

    private async Task<(TcpConnection Client, TcpConnection Server)> OpenAsync()
    {
        ushort port = _nextPort++;
        var listener = TcpListener.Start(_server.Stack, port);
        var accept = listener.AcceptAsync();
        var client = await TcpConnection.ConnectAsync(_client.Stack, ServerAddress, port);
        var server = await accept;
        listener.Stop();
        return (client, server);
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        _server.Dispose();
        return ValueTask.CompletedTask;
    }
}
