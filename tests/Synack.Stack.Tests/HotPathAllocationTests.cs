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

        long before = GC.GetAllocatedBytesForCurrentThread();
        long moved = transfer.Move(16 << 20);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(16 << 20, moved);
        Assert.Equal(0, allocated);
    }
}
