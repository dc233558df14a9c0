namespace Synack.KernelBench;

/// <summary>
/// The same three workloads on either stack: a bulk stream, short connections, and a ping-pong on one
/// connection. Synack's pair and the kernel's loopback implement it, so a row compares like with like.
/// </summary>
internal interface IBenchPeers : IAsyncDisposable
{
    /// <summary>Sends <paramref name="bytes"/> on one connection; the wall time from the first write until the receiver has read them all.</summary>
    Task<TimeSpan> BulkAsync(long bytes);

    /// <summary>
    /// <paramref name="count"/> connections, <paramref name="parallel"/> at a time: connect, one byte
    /// each way, abort (RST, so no TIME-WAIT piles up); the wall time for all of them.
    /// </summary>
    Task<TimeSpan> ShortConnectionsAsync(int count, int parallel);

    /// <summary>One byte there and back, <paramref name="rounds"/> times on one connection: each round trip's time.</summary>
    Task<double[]> PingPongAsync(int rounds);
}
