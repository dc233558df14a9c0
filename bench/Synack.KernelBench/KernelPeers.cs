using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Synack.KernelBench;

/// <summary>The Linux kernel's TCP over loopback, through System.Net.Sockets: the baseline in every pair.</summary>
internal sealed class KernelPeers : IBenchPeers
{
    public async Task<TimeSpan> BulkAsync(long bytes)
    {
        var (client, server) = await OpenAsync();
        using (client)
        using (server)
        {
            return await StreamWorkloads.BulkAsync(new NetworkStream(client), new NetworkStream(server), bytes, () => client.Shutdown(SocketShutdown.Send));
        }
    }

    public async Task<TimeSpan> ShortConnectionsAsync(int count, int parallel)
    {
        using var listener = Listen(1024);
        var endpoint = (IPEndPoint)listener.LocalEndPoint!;
        return await StreamWorkloads.ShortConnectionsAsync(count, parallel,
            async () =>
            {
                using var c = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                await c.ConnectAsync(endpoint);
                await StreamWorkloads.AskOnceAsync(new NetworkStream(c));
                c.LingerState = new LingerOption(true, 0); // close() is then a reset, as Synack's Abort
            },
            async stop =>
            {
                var c = await listener.AcceptAsync(stop);
                c.NoDelay = true;
                return new NetworkStream(c, ownsSocket: true);
            });
    }

    public async Task<double[]> PingPongAsync(int rounds)
    {
        var (client, server) = await OpenAsync();
        using (client)
        using (server)
        {
            return await StreamWorkloads.PingPongAsync(new NetworkStream(client), new NetworkStream(server), rounds, () => client.Shutdown(SocketShutdown.Send));
        }
    }

    private static Socket Listen(int backlog)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(backlog);
        return listener;
    }

    private static async Task<(Socket Client, Socket Server)> OpenAsync()
    {
        using var listener = Listen(16);
        var accept = listener.AcceptAsync();
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await client.ConnectAsync(listener.LocalEndPoint!);
        var server = await accept;
        server.NoDelay = true;
        return (client, server);
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
