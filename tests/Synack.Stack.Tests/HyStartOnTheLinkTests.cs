using Synack.Simulation;
using Synack.Tcp;
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
        var (elapsed, _) = OneTransfer.Run(
            ConnectionOptions.Default with { HyStart = hyStart, ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 },
            bytes: 3 << 20,
            dropDataSegment: _ => false,
            log: null,
            linkOptions: new LinkConditions { Latency = TimeSpan.FromMilliseconds(20), RateBytesPerSecond = 1_250_000, QueueLimit = 60 },
            out var link);
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
