using Synack.Stack;

namespace Synack.Services;

/// <summary>RFC 862 echo and RFC 863 discard on a <see cref="TcpConnection"/>.</summary>
public static class SimpleServices
{
    /// <summary>Echo (port 7, RFC 862): sends back what it reads until the peer closes, then closes.</summary>
    public static async Task EchoAsync(TcpConnection conn, CancellationToken ct)
    {
        var buf = new byte[64 * 1024];
        try
        {
            int n;
            while ((n = await conn.ReadAsync(buf, ct)) > 0) await conn.WriteAsync(buf.AsMemory(0, n), ct);
            await conn.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
        {
        }
    }

    /// <summary>Discard (port 9, RFC 863): reads and forgets until the peer closes, then closes.</summary>
    public static async Task DiscardAsync(TcpConnection conn, CancellationToken ct)
    {
        var buf = new byte[64 * 1024];
        try
        {
            while (await conn.ReadAsync(buf, ct) > 0) { }
            await conn.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException)
        {
        }
    }
}
