using Synack.Tcp;
using Synack.Wire;
using Xunit.Abstractions;

namespace Synack.Stack.Tests;

/// <summary>
/// HyStart++ on the simulated link: a 10 Mbit/s bottleneck with a queue of 60 packets and a 40 ms
/// round trip. Plain slow start doubles until the queue overflows and drops a burst; HyStart++ sees
/// the round trip grow as the queue fills and slows down first.
/// </summary>
public sealed class HyStartOnTheLinkTests(ITestOutputHelper output)
{
    private static (long TailDropped, TimeSpan Elapsed) Transfer(bool hyStart)
    {
        var options = ConnectionOptions.Default with { HyStart = hyStart, ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };
        var net = new SimulatedNetwork(1);
        var sender = net.AddHost("sender", "192.0.2.1", options);
        var receiver = net.AddHost("receiver", "192.0.2.2", options);
        var link = net.Connect(new LinkOptions { Latency = TimeSpan.FromMilliseconds(20), RateBytesPerSecond = 1_250_000, QueueLimit = 60 }, sender, receiver);
        const int bytes = 3 << 20;
        var elapsed = net.Run(async () =>
        {
            var listener = TcpListener.Start(receiver, 5001);
            var accept = listener.AcceptAsync();
            var client = await TcpConnection.ConnectAsync(sender, IpAddr.Parse("192.0.2.2"), 5001);
            var server = await accept;
            var start = net.Now;
            var writing = client.WriteAsync(new byte[bytes]);
            var buffer = new byte[64 * 1024];
            for (int got = 0; got < bytes;) got += await server.ReadAsync(buffer);
            await writing;
            return net.Now - start;
        }, TimeSpan.FromMinutes(5));
        return (link.TailDropped, elapsed);
    }

    [Fact]
    public void Slow_start_leaves_before_the_queue_overflows()
    {
        var with = Transfer(hyStart: true);
        var without = Transfer(hyStart: false);
        output.WriteLine($"HyStart++: {with.TailDropped} packets dropped at the queue, {with.Elapsed}; plain slow start: {without.TailDropped}, {without.Elapsed}");
        Assert.True(without.TailDropped > 0, "plain slow start should overflow the queue");
        Assert.True(with.TailDropped < without.TailDropped, $"{with.TailDropped} dropped with HyStart++, {without.TailDropped} without");
    }
}
