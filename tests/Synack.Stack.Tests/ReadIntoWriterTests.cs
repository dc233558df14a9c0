using System.Buffers;
using System.IO.Pipelines;
using System.Net.Sockets;
using Synack.Simulation;

namespace Synack.Stack.Tests;

/// <summary>
/// A read into a buffer writer (a pipe's): everything that has arrived, across as many of the writer's
/// blocks as it fills, in one call — what a transport's pump does once per burst instead of once per block.
/// </summary>
public sealed class ReadIntoWriterTests
{
    [Fact]
    public void One_read_takes_a_whole_burst_across_the_pipes_blocks_then_the_rest_then_the_end_of_stream()
    {
        var net = new SimulatedNetwork();
        var (_, _, c, s) = ConnectedPair.Open(net);
        var data = new byte[100_000];
        new Random(3).NextBytes(data);
        net.Run(async () =>
        {
            await c.WriteAsync(data);
            c.ShutdownSend();
        }, TimeSpan.FromSeconds(5));
        net.RunFor(TimeSpan.FromSeconds(1)); // all of it, and the FIN, has arrived

        var pipe = new Pipe(new PipeOptions(pool: new SmallBlocks(), minimumSegmentSize: 4096, pauseWriterThreshold: 0));
        int first = net.Run(() => s.ReadAsync(pipe.Writer, 64 * 1024).AsTask(), TimeSpan.FromSeconds(5));
        Assert.Equal(64 * 1024, first); // sixteen 4 KB blocks in one call, bounded by what was asked
        int second = net.Run(() => s.ReadAsync(pipe.Writer, 64 * 1024).AsTask(), TimeSpan.FromSeconds(5));
        Assert.Equal(data.Length - first, second);
        Assert.Equal(0, net.Run(() => s.ReadAsync(pipe.Writer, 64 * 1024).AsTask(), TimeSpan.FromSeconds(5))); // the FIN
        pipe.Writer.Complete();
        Assert.True(pipe.Reader.TryRead(out var result));
        Assert.Equal(data, result.Buffer.ToArray());
    }

    [Fact]
    public void Data_before_a_reset_is_read_first_and_the_reset_reported_by_the_next_read()
    {
        var net = new SimulatedNetwork();
        var (_, _, c, s) = ConnectedPair.Open(net);
        net.Run(async () =>
        {
            await c.WriteAsync(new byte[10_000]);
        }, TimeSpan.FromSeconds(5));
        net.RunFor(TimeSpan.FromSeconds(1));
        net.Invoke(c.Abort); // a RST behind the data
        net.RunFor(TimeSpan.FromSeconds(1));

        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        Assert.Equal(10_000, net.Run(() => s.ReadAsync(pipe.Writer, 64 * 1024).AsTask(), TimeSpan.FromSeconds(5)));
        var reset = Assert.Throws<SocketException>(() => net.Run(() => s.ReadAsync(pipe.Writer, 64 * 1024).AsTask(), TimeSpan.FromSeconds(5)));
        Assert.Equal(SocketError.ConnectionReset, reset.SocketErrorCode);
    }

    /// <summary>A pool of 4 KB blocks, as Kestrel's pipes have.</summary>
    private sealed class SmallBlocks : MemoryPool<byte>
    {
        public override int MaxBufferSize => 4096;
        public override IMemoryOwner<byte> Rent(int minBufferSize = -1) => new Block();
        protected override void Dispose(bool disposing) { }

        private sealed class Block : IMemoryOwner<byte>
        {
            public Memory<byte> Memory { get; } = new byte[4096];
            public void Dispose() { }
        }
    }
}
