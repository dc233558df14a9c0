using System.Buffers;
using Synack.Stack;

namespace Synack.Services;

/// <summary>RFC 862 echo and RFC 863 discard on a <see cref="TcpConnection"/>.</summary>
public static class SimpleServices
{
    /// <summary>Echo (port 7, RFC 862): sends back what it reads until the peer closes, then closes.</summary>
    public static async Task EchoAsync(TcpConnection conn, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                // No buffer held while idle, nor a registration on the server's token: a connection waiting
                // here is one call object in the stack; stopping the server closes the stacks under it.
                await conn.ReadAsync(Memory<byte>.Empty, CancellationToken.None);
                var buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    int n = await conn.ReadAsync(buf, ct);
                    if (n == 0) break;
                    await conn.WriteAsync(buf.AsMemory(0, n), ct);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buf);
                }
            }
            await conn.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
        {
        }
    }

    /// <summary>Discard (port 9, RFC 863): reads and forgets until the peer closes, then closes.</summary>
    public static async Task DiscardAsync(TcpConnection conn, CancellationToken ct)
    {
        try
        {
            while (true)
            {
                await conn.ReadAsync(Memory<byte>.Empty, CancellationToken.None); // a million idle connections hold no buffers, nor registrations
                var buf = ArrayPool<byte>.Shared.Rent(64 * 1024);
                try
                {
                    if (await conn.ReadAsync(buf, ct) == 0) break;
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buf);
                }
            }
            await conn.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
        {
        }
    }
}
