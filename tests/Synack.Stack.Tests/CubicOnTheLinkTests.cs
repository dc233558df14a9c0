using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;
using Xunit.Abstractions;

namespace Synack.Stack.Tests;

/// <summary>
/// CUBIC on the simulated link, end to end: one bulk stream over a 100 ms round trip loses one
/// segment out of slow start; after recovery the sender's window, sampled every round trip, follows
/// RFC 9438's curve W(t) = C·(t − K)³ + W_max with W_max = ssthresh / β — back at W_max after K
/// seconds, and beyond it convex.
/// </summary>
public sealed class CubicOnTheLinkTests(ITestOutputHelper output)
{
    [Fact]
    public void After_a_loss_the_window_follows_the_cubic_curve_on_the_simulated_link()
    {
        const double C = 0.4, Beta = 0.7;
        var rtt = TimeSpan.FromMilliseconds(100);
        var options = ConnectionOptions.Default with { ReceiveBufferSize = 8 << 20, SendBufferSize = 8 << 20 };
        Assert.Equal(CongestionControlAlgorithm.Cubic, options.CongestionControl); // Linux's default is ours
        var net = new SimulatedNetwork(1);
        var sender = net.AddHost("sender", "192.0.2.1", options);
        var receiver = net.AddHost("receiver", "192.0.2.2", options);
        var link = net.Connect(new LinkConditions { Latency = rtt / 2 }, sender, receiver);
        // One data segment lost about 300 KB in, while slow start is still doubling the window.
        uint? isn = null;
        link.Drop((from, packet) =>
        {
            if (from != sender || !IpHeader.TryParse(packet, out var ip, out _)) return false;
            var segment = packet.AsSpan(ip.HeaderLength, ip.PayloadLength);
            if (!TcpHeader.TryParse(segment, out var tcp, out _)) return false;
            if (tcp.Flags.Has(TcpFlags.Syn)) isn = tcp.Seq.Value;
            return isn is uint i && segment.Length > tcp.HeaderLength && unchecked(tcp.Seq.Value - i - 1) >= 300_000;
        });

        var samples = new List<(TimeSpan At, uint Cwnd, uint Ssthresh)>();
        net.Run(async () =>
        {
            var listener = TcpListener.Start(receiver, 5001);
            var accept = listener.AcceptAsync();
            var client = await TcpConnection.ConnectAsync(sender, IpAddr.Parse("192.0.2.2"), 5001);
            var server = await accept;
            var stop = false;
            var reading = ReadAllAsync(server);
            var writing = WriteUntilAsync(client, () => stop); // on the loop, as all code in a simulation
            for (int i = 0; i < 150; i++)
            {
                await Task.Delay(rtt, net.TimeProvider);
                samples.Add((net.Now, client.Protocol.CongestionWindow, client.Protocol.SlowStartThreshold));
            }
            stop = true;
            await writing;
            client.ShutdownSend();
            await reading;
        }, TimeSpan.FromMinutes(5));

        Assert.Equal(1, link.Lost);
        var mss = (double)options.Mss;
        int firstAvoidance = samples.FindIndex(s => s.Ssthresh != uint.MaxValue && s.Cwnd >= s.Ssthresh);
        Assert.True(firstAvoidance > 0, "the connection never left recovery");
        double wMax = samples[firstAvoidance].Ssthresh / Beta / mss;
        double k = Math.Cbrt(wMax * (1 - Beta) / C);
        // The epoch began with the first ACK after recovery, within the round trip before this sample
        // (PRR ends recovery at exactly ssthresh): take the middle of it.
        var t0 = samples[firstAvoidance].At - rtt / 2;
        output.WriteLine($"W_max {wMax:F1} segments, K {k:F2} s, avoidance from {t0}");
        int compared = 0;
        foreach (var s in samples.Skip(firstAvoidance + 5))
        {
            double t = (s.At - t0).TotalSeconds;
            if (t > 2 * k) break;
            double expected = C * Math.Pow(t + rtt.TotalSeconds - k, 3) + wMax;
            double actual = s.Cwnd / mss;
            output.WriteLine($"t {t:F1} s: cwnd {actual:F1}, W(t+RTT) {expected:F1}");
            Assert.InRange(actual, expected * 0.9, expected * 1.1);
            compared++;
        }
        Assert.True(compared >= 40, $"only {compared} samples on the curve");
    }

    private static async Task<long> ReadAllAsync(TcpConnection c)
    {
        var buffer = new byte[256 * 1024];
        long got = 0;
        int n;
        while ((n = await c.ReadAsync(buffer)) > 0) got += n;
        return got;
    }

    private static async Task WriteUntilAsync(TcpConnection c, Func<bool> stop)
    {
        var chunk = new byte[256 * 1024];
        while (!stop()) await c.WriteAsync(chunk);
    }
}
