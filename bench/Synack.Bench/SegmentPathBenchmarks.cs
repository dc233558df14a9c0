using BenchmarkDotNet.Attributes;
using Synack.Testing;

namespace Synack.Bench;

/// <summary>
/// The data path alone: 1 MiB through an established connection between two stacks on one thread
/// (socket send, segments built and parsed, ACKs, socket receive), the wire copying into buffers made
/// up front. MemoryDiagnoser's Allocated column is the stacks' own allocation per MiB: it should be
/// zero (a test, HotPathAllocationTests, holds it there).
/// </summary>
[MemoryDiagnoser]
public class SegmentPathBenchmarks
{
    private SteadyTransfer _transfer = null!;

    [GlobalSetup]
    public void Setup()
    {
        _transfer = new SteadyTransfer();
        _transfer.Move(8 << 20);
    }

    [Benchmark]
    public long OneMebibyte() => _transfer.Move(1 << 20);
}
