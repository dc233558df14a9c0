using System.Diagnostics;
using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Wire;
using Xunit.Abstractions;

namespace Synack.Stack.Tests;

public class LoadTests(ITestOutputHelper output)
{
    /// <summary>
    /// Many concurrent connections over a lossy, reordering link, each moving data both ways; every byte
    /// checked by SHA-256; every connection closed; after 2 MSL nothing is left.
    /// </summary>
    [Theory]
    [InlineData(100, 256 * 1024, 1)]
    [InlineData(1000, 1024 * 1024, 2)]
    public void Concurrent_connections_over_a_lossy_reordering_link(int connections, int bytes, int seed)
    {
        var sw = Stopwatch.StartNew();
        var net = new SimulatedNetwork(seed);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        var link = net.Connect(new LinkConditions { Loss = 0.01, Reordering = 0.01, Latency = TimeSpan.FromMilliseconds(10), Seed = seed }, client, server);
        var listener = TcpListener.Start(server, 80, backlog: connections);
        var serverAddress = IpAddr.Parse("192.0.2.2");
        int ok = 0;
        net.Run(async () =>
        {
            var serverTasks = new List<Task>();
            var clientTasks = new List<Task>();
            for (int i = 0; i < connections; i++)
            {
                int id = i;
                clientTasks.Add(RunClient(client, serverAddress, id, bytes));
            }
            for (int i = 0; i < connections; i++)
            {
                var s = await listener.AcceptAsync();
                serverTasks.Add(Echo(s, bytes));
            }
            await Task.WhenAll(serverTasks);
            await Task.WhenAll(clientTasks);
            ok = clientTasks.Count(t => t.IsCompletedSuccessfully);
        }, TimeSpan.FromHours(2));
        Assert.Equal(connections, ok);
        var transfersDone = net.Now;
        net.RunFor(TimeSpan.FromSeconds(61));
        Assert.Equal(0, client.ConnectionCount + server.ConnectionCount);
        Assert.Equal(0, client.TimeWaitCount + server.TimeWaitCount);
        output.WriteLine($"{connections} x {bytes} bytes each way: {sw.Elapsed.TotalSeconds:F1} s wall, transfers done at {transfersDone.TotalSeconds:F2} s virtual, all closed by {net.Now.TotalSeconds:F1} s; " +
            $"link lost {link.Lost}, reordered {link.Reordered}, delivered {link.Delivered}");
    }

    private static byte[] Pattern(int id, int bytes)
    {
        var b = new byte[bytes];
        new Random(id).NextBytes(b);
        return b;
    }

    private static async Task RunClient(NetworkStack stack, IpAddr server, int id, int bytes)
    {
        var c = await TcpConnection.ConnectAsync(stack, server, 80);
        var data = Pattern(id, bytes);
        var reading = Reads.ToEnd(c);
        await c.WriteAsync(data);
        c.ShutdownSend();
        var back = await reading;
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(back));
        await c.CloseAsync();
    }

    private static async Task Echo(TcpConnection s, int bytes)
    {
        var buf = new byte[32 * 1024];
        int n;
        while ((n = await s.ReadAsync(buf)) > 0) await s.WriteAsync(buf.AsMemory(0, n));
        await s.CloseAsync();
    }
}
