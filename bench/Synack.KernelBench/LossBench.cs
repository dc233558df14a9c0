using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.KernelBench;

/// <summary>
/// Goodput of one stream over the simulated link at a given random loss and round-trip time, in
/// virtual time, beside the Mathis et al. bound for Reno-style congestion control: MSS/RTT · 1.22/√p.
/// </summary>
internal static class LossBench
{
    public static (double GoodputBitsPerSecond, double MathisBitsPerSecond) Run(long bytes, double loss, TimeSpan rtt, int seed = 1)
    {
        var options = ConnectionOptions.Default with { ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };
        var net = new SimulatedNetwork(seed);
        var sender = net.AddHost("sender", "192.0.2.1", options);
        var receiver = net.AddHost("receiver", "192.0.2.2", options);
        net.Connect(new LinkConditions { Latency = rtt / 2, Loss = loss, Seed = seed }, sender, receiver);
        var elapsed = net.Run(async () =>
        {
            var listener = TcpListener.Start(receiver, 5001);
            var accept = listener.AcceptAsync();
            var client = await TcpConnection.ConnectAsync(sender, IpAddr.Parse("192.0.2.2"), 5001);
            var server = await accept;
            var start = net.Now;
            var read = ReadAllAsync(server); // on the loop, as everything in a simulation
            var chunk = new byte[64 * 1024];
            for (long sent = 0; sent < bytes; sent += chunk.Length) await client.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)));
            client.ShutdownSend();
            long got = await read;
            if (got != bytes) throw new InvalidOperationException($"delivered {got} of {bytes} bytes");
            return net.Now - start;
        }, TimeSpan.FromHours(2));
        double goodput = bytes * 8 / elapsed.TotalSeconds;
        double mathis = options.Mss * 8 / rtt.TotalSeconds * 1.22 / Math.Sqrt(loss);
        return (goodput, mathis);
    }

    private static async Task<long> ReadAllAsync(TcpConnection c)
    {
        var buffer = new byte[64 * 1024];
        long got = 0;
        int n;
        while ((n = await c.ReadAsync(buffer)) > 0) got += n;
        return got;
    }
}
