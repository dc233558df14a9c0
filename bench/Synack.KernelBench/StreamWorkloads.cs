using System.Diagnostics;

namespace Synack.KernelBench;

/// <summary>The bulk and ping-pong workloads, written once over streams so both stacks run the same code.</summary>
internal static class StreamWorkloads
{
    public static async Task<TimeSpan> BulkAsync(Stream client, Stream server, long bytes, Action shutdownSend)
    {
        var chunk = new byte[256 * 1024];
        var sw = Stopwatch.StartNew();
        var reading = Task.Run(async () =>
        {
            var buffer = new byte[256 * 1024];
            long got = 0;
            int n;
            while ((n = await server.ReadAsync(buffer)) > 0) got += n;
            return got;
        });
        for (long sent = 0; sent < bytes; sent += chunk.Length) await client.WriteAsync(chunk.AsMemory(0, (int)Math.Min(chunk.Length, bytes - sent)));
        shutdownSend();
        long received = await reading;
        var elapsed = sw.Elapsed;
        if (received != bytes) throw new InvalidOperationException($"the bulk stream delivered {received} of {bytes} bytes");
        return elapsed;
    }

    public static async Task<double[]> PingPongAsync(Stream client, Stream server, int rounds, Action shutdownSend)
    {
        var echo = Task.Run(async () =>
        {
            var b = new byte[1];
            while (await server.ReadAsync(b) == 1) await server.WriteAsync(b);
        });
        var one = new byte[1];
        var times = new double[rounds];
        for (int i = 0; i < rounds; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            await client.WriteAsync(one);
            if (await client.ReadAsync(one) != 1) throw new InvalidOperationException("the echo stopped");
            times[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        }
        shutdownSend();
        await echo;
        return times;
    }

    /// <summary>The server's half of a short connection: one byte back, then wait for the client to go.</summary>
    public static async Task AnswerOnceAsync(Stream connection)
    {
        var one = new byte[1];
        try
        {
            if (await connection.ReadAsync(one) == 1) await connection.WriteAsync(one);
            while (await connection.ReadAsync(one) > 0) { }
        }
        catch (IOException)
        {
            // the client's abort
        }
        await connection.DisposeAsync();
    }

    /// <summary>The client's half: one byte there, one back.</summary>
    public static async Task AskOnceAsync(Stream connection)
    {
        var one = new byte[1];
        await connection.WriteAsync(one);
        if (await connection.ReadAsync(one) != 1) throw new InvalidOperationException("the server closed before answering");
    }

    /// <summary>
    /// <paramref name="count"/> short connections, <paramref name="parallel"/> workers at a time, each made
    /// by <paramref name="oneConnection"/>, while <paramref name="accept"/> serves them until stopped.
    /// </summary>
    public static async Task<TimeSpan> ShortConnectionsAsync(int count, int parallel, Func<Task> oneConnection, Func<CancellationToken, Task<Stream>> accept)
    {
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var c = await accept(stop.Token);
                    _ = Task.Run(() => AnswerOnceAsync(c));
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or System.Net.Sockets.SocketException or ObjectDisposedException)
            {
                // stopped
            }
        });
        int started = 0;
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref started) <= count) await oneConnection();
        })));
        var elapsed = sw.Elapsed;
        stop.Cancel();
        await serving;
        return elapsed;
    }
}
