using Synack.Scenarios;
using Synack.Simulation;
using Synack.Stack;

namespace Synack.Tcp.Tests;

/// <summary>
/// Buffers that grow with the transfer (Linux's receive and send autotuning) on a long fat link:
/// 1 Gbit/s with a 100 ms round trip holds 12.5 MB in flight, twenty times the 256 KiB a connection
/// starts with.
/// </summary>
public class BufferAutotuningTests
{
    private const int Size = 24 << 20;

    private static (TimeSpan Took, Connection Sender, Connection Receiver) OneWay(ConnectionOptions options)
    {
        var link = new LinkConditions { Latency = TimeSpan.FromMilliseconds(50), RateBytesPerSecond = 125_000_000, QueueLimit = 20_000 };
        var t = new OneWayTransfer(options, link, Size, seed: 7);
        var took = t.Finish(TimeSpan.FromMinutes(10)) - t.Started;
        Console.WriteLine($"{(options.ReceiveBufferMax is null ? "fixed" : "tuned")}: {Size >> 20} MiB in {took.TotalSeconds:F2} s, receive buffer {t.Receiver.ReceiveBufferSize:N0}, send buffer {t.Sender.SendQueued + t.Sender.SendSpace:N0}");
        return (took, t.Sender, t.Receiver);
    }

    [Fact]
    public void On_a_long_fat_link_the_buffers_grow_to_what_the_path_holds_and_no_further()
    {
        var tuned = OneWay(ConnectionOptions.Default);
        var fixedSize = OneWay(ConnectionOptions.Default with { ReceiveBufferMax = null, SendBufferMax = null });

        // Fixed: one 256 KiB window a round trip, about 2.6 MB/s.
        Assert.Equal(256 * 1024, fixedSize.Receiver.ReceiveBufferSize);
        Assert.True(fixedSize.Took > TimeSpan.FromSeconds(8), $"fixed buffers took {fixedSize.Took}");
        // Tuned: the windows open with the transfer, so it is done several times sooner.
        Assert.True(tuned.Took * 4 < fixedSize.Took, $"tuned {tuned.Took} against fixed {fixedSize.Took}");
        Assert.InRange(tuned.Receiver.ReceiveBufferSize, 1 << 20, 6 << 20);
        Assert.InRange(tuned.Sender.SendQueued + tuned.Sender.SendSpace, 1 << 20, 4 << 20);
        Assert.Equal(7, tuned.Receiver.ReceiveWindowShift);
    }

    [Fact]
    public void A_receiver_that_does_not_read_gets_no_bigger_buffer()
    {
        var link = new LinkConditions { Latency = TimeSpan.FromMilliseconds(50), RateBytesPerSecond = 125_000_000 };
        var sim = new BareRun(link: link);
        sim.Server.AutoRead = false;
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(300));
        sim.Client.Send(new byte[4 << 20]);
        sim.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(256 * 1024, sim.Server.Connection!.ReceiveBufferSize); // growth follows reads, not arrivals
        Assert.InRange(sim.Server.Connection!.ReceiveQueued, 255 * 1024, 256 * 1024); // full, to the last window's rounding
    }
}
