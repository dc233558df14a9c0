using Synack.Simulation;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A zero-byte read waits for data without a buffer, as on a .NET Socket, so a server holding many
/// idle connections holds no buffer for each: it completes with 0 once a read would not block, and the
/// read after it gets the data (or the end of the stream).
/// </summary>
public sealed class ZeroByteReadTests
{
    [Fact]
    public void A_zero_byte_read_completes_when_data_arrives_and_the_next_read_takes_it()
    {
        var net = new SimulatedNetwork(11);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(10), Seed = 11 }, client, server);

        var (waitedMs, zero, data, end) = net.Run(async () =>
        {
            var listener = TcpListener.Start(server, 9);
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 9);
            var s = await accept;
            var start = net.Now;
            var waiting = s.ReadAsync(Memory<byte>.Empty);
            Assert.False(waiting.IsCompleted); // nothing sent yet: it waits
            await Task.Delay(TimeSpan.FromMilliseconds(100), net.TimeProvider);
            await c.WriteAsync("hello"u8.ToArray());
            int zero = await waiting;
            double waited = (net.Now - start).TotalMilliseconds;
            var data = await Reads.Exactly(s, 5);
            c.ShutdownSend();
            await s.ReadAsync(Memory<byte>.Empty); // the FIN makes it readable too
            int end = await s.ReadAsync(new byte[16]);
            return (waited, zero, data, end);
        }, TimeSpan.FromMinutes(1));

        Assert.Equal(0, zero);
        Assert.True(waitedMs >= 110, $"it completed after {waitedMs} ms, before the data could arrive");
        Assert.Equal("hello"u8.ToArray(), data);
        Assert.Equal(0, end);
    }
}

/// <summary>The same on real threads, with a token that lives as long as the connection (as a transport's).</summary>
public sealed class ZeroByteReadOnThreadsTests
{
    [Fact]
    public async Task Zero_byte_reads_then_reads_take_every_message_on_real_threads()
    {
        var (clientLoop, serverLoop) = LinkedThreads.Pair();
        using var _ = clientLoop;
        using var __ = serverLoop;
        var (c, s, listener) = await LinkedThreads.ConnectAsync(clientLoop, serverLoop, 9);
        using var stop = new CancellationTokenSource();
        var buffer = new byte[64];
        for (int i = 0; i < 200; i++)
        {
            var waiting = s.ReadAsync(Memory<byte>.Empty, stop.Token).AsTask();
            await c.WriteAsync(new byte[] { (byte)i });
            Assert.Equal(0, await waiting.WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal(1, await s.ReadAsync(buffer, stop.Token).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
            Assert.Equal((byte)i, buffer[0]);
        }
        c.Abort();
        s.Abort();
        listener.Stop();
    }
}
