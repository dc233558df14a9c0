using Synack.Testing;

namespace Synack.Stack.Tests;

/// <summary>The data path allocates nothing per segment once a connection is running.</summary>
public class HotPathAllocationTests
{
    [Fact]
    public void Sixteen_megabytes_through_an_established_connection_allocate_nothing()
    {
        var transfer = new SteadyTransfer();
        transfer.Move(8 << 20); // warm: the pool's buffers rented, the code jitted, the windows open

        // The least of three windows: an allocation per segment (about 11,500 of them in each) shows in
        // every one, while the runtime trimming ArrayPool.Shared on a gen-2 GC that another test class
        // caused costs one refill (2 KiB seen once on CI) in one window only.
        long least = long.MaxValue;
        for (int window = 0; window < 3 && least != 0; window++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            long moved = transfer.Move(16 << 20);
            long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.Equal(16 << 20, moved);
            least = Math.Min(least, allocated);
        }

        Assert.Equal(0, least);
    }
}
