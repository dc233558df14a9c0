using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A request and its response on a keep-alive connection, the way a web server's transport pumps it
/// (reads that wait for the request, writes, a long-lived cancellation token), allocate nothing inside
/// the stack once the connection is running. Measured over the whole process, so the collection runs
/// alone.
/// </summary>
[Collection(nameof(KeepAliveAllocationCollection))]
public class KeepAliveAllocationTests
{
    private const int Requests = 2_000;

    [Fact]
    public async Task Two_thousand_requests_on_a_keep_alive_connection_allocate_nothing_per_request()
    {
        var options = ConnectionOptions.Default with { Nagle = false };
        var (clientLoop, serverLoop) = LinkedThreads.Pair(options);
        using var _ = clientLoop;
        using var __ = serverLoop;
        var (client, server, listener) = await LinkedThreads.ConnectAsync(clientLoop, serverLoop, 80);
        using var stop = new CancellationTokenSource(); // lives as long as the connection, as a transport's does

        var request = new byte[100];
        var response = new byte[200];
        var serverBuffer = new byte[4096];
        var clientBuffer = new byte[4096];
        int served = 0, asked = 0;

        async Task ServeAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                int got = 0;
                while (got < request.Length) got += await server.ReadAsync(serverBuffer, stop.Token);
                await server.WriteAsync(response, stop.Token);
                served++;
            }
        }

        async Task AskAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                await client.WriteAsync(request, stop.Token);
                int got = 0;
                while (got < response.Length) got += await client.ReadAsync(clientBuffer, stop.Token);
                asked++;
            }
        }

        async Task<long> BytesPerRequestAsync()
        {
            long before = GC.GetTotalAllocatedBytes(precise: true);
            var serving = ServeAsync(Requests);
            var asking = AskAsync(Requests);
            // Bounded: a lost wake-up fails here, saying where each side stood, instead of hanging the run.
            var both = Task.WhenAll(serving, asking);
            if (await Task.WhenAny(both, Task.Delay(TimeSpan.FromSeconds(30))) != both)
            {
                Assert.Fail($"stalled: served {served}, asked {asked}; client {string.Join("; ", clientLoop.Stack.Snapshot())}; server {string.Join("; ", serverLoop.Stack.Snapshot())}");
            }
            await serving;
            await asking;
            return (GC.GetTotalAllocatedBytes(precise: true) - before) / Requests;
        }

        await BytesPerRequestAsync(); // warm: code jitted, pools filled, windows open
        await BytesPerRequestAsync();

        // The least of three windows: an allocation per request shows in each of them; the runtime's own
        // now-and-then work (a timer, the thread pool's bookkeeping) lands in one window at most.
        long least = long.MaxValue;
        for (int window = 0; window < 3; window++) least = Math.Min(least, await BytesPerRequestAsync());

        // Under the smallest object (24 bytes): anything made on every request would show whole. What is
        // left is the runtime's and the pool's (an ArrayPool bucket refilled now and then, since the
        // link rents on the sender's thread and returns on the receiver's) and the test's own two loops.
        Assert.InRange(least, 0, 23);
        client.Abort();
        server.Abort();
        listener.Stop();
    }
}

[CollectionDefinition(nameof(KeepAliveAllocationCollection), DisableParallelization = true)]
public class KeepAliveAllocationCollection;
