using System.Globalization;
using System.Text;
using Synack.Stack;

namespace Synack.Services;

/// <summary>
/// A static file server on the stack's own sockets, as nginx is one on the kernel's: HTTP/1.1 GET and
/// HEAD of the files under a directory, keep-alive and pipelining, one byte range (206, 416), and the
/// body sent by <see cref="TcpConnection.SendFileAsync(Microsoft.Win32.SafeHandles.SafeFileHandle, long, long, CancellationToken)"/>
/// — the stack reads the file into its send buffer as acknowledgments come, with no copy through
/// this code. No directory listings, nothing outside the directory (.. and links that leave it are
/// 404), no request bodies.
/// </summary>
public sealed class FileServer
{
    /// <summary>The most a request's line and headers may take (nginx's large_client_header_buffers is 8 KiB a line).</summary>
    public const int MaxHeaderBytes = 16 * 1024;
    private readonly string _root;
    private readonly TimeSpan _idle;

    /// <param name="root">The directory served; it must exist.</param>
    /// <param name="idleTimeout">How long a kept-alive connection may sit without a request (default 60 s).</param>
    public FileServer(string root, TimeSpan? idleTimeout = null)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"no directory '{root}' to serve");
        _root = Path.TrimEndingDirectorySeparator(full);
        _idle = idleTimeout ?? TimeSpan.FromSeconds(60);
    }

    /// <summary>Accepts and serves until <paramref name="ct"/> is cancelled, each connection on its own task.</summary>
    public Task RunAsync(TcpListener listener, CancellationToken ct) => AcceptLoop.RunAsync(listener, ServeAsync, ct);

    /// <summary>Requests on one connection, answered in order, until the client closes, asks to, errs or idles out.</summary>
    public async Task ServeAsync(TcpConnection connection, CancellationToken ct)
    {
        // The stack's clock: on a simulated network the idle timeout runs in virtual time.
        var time = connection.Socket.Stack.Loop?.Time ?? TimeProvider.System;
        var buffer = new byte[MaxHeaderBytes];
        int held = 0;
        try
        {
            while (true)
            {
                int end;
                while ((end = HeaderEnd(buffer.AsSpan(0, held))) < 0)
                {
                    if (held == buffer.Length)
                    {
                        await Respond(connection, 431, "Request Header Fields Too Large", close: true, ct);
                        await LingeringClose(connection, time);
                        return;
                    }
                    int n = await ReadUnlessIdle(connection, buffer.AsMemory(held), time, ct);
                    if (n <= 0)
                    {
                        if (n == 0 && held > 0) await Respond(connection, 400, "Bad Request", close: true, ct); // a request cut off
                        await LingeringClose(connection, time);
                        return;
                    }
                    held += n;
                }
                var request = HttpRequestHead.Parse(buffer.AsSpan(0, end));
                bool keepAlive = await Answer(connection, request, ct);
                buffer.AsSpan(end, held - end).CopyTo(buffer); // a pipelined request already read
                held -= end;
                if (!keepAlive) break;
            }
            await LingeringClose(connection, time);
        }
        catch (Exception ex) when (ex is System.Net.Sockets.SocketException or OperationCanceledException or IOException)
        {
            connection.Abort();
        }
    }

    /// <summary>A read that gives up after the idle timeout: the count, 0 at end of stream, -1 when idle.</summary>
    private async Task<int> ReadUnlessIdle(TcpConnection connection, Memory<byte> into, TimeProvider time, CancellationToken ct)
    {
        using var idle = new CancellationTokenSource(_idle, time);
        using var either = CancellationTokenSource.CreateLinkedTokenSource(ct, idle.Token);
        try
        {
            return await connection.ReadAsync(into, either.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return -1;
        }
    }

    /// <summary>
    /// nginx's lingering close: our FIN goes after the last response, and what the client still sends
    /// (the rest of a request refused, say) is read and dropped for a while, so the close is not a
    /// reset that could destroy the response before the client has read it. Bounded in bytes and time.
    /// </summary>
    private async Task LingeringClose(TcpConnection connection, TimeProvider time)
    {
        connection.ShutdownSend();
        var sink = new byte[4096];
        long drained = 0;
        int n;
        while (drained < 1 << 20 && (n = await ReadUnlessIdle(connection, sink, time, CancellationToken.None)) > 0) drained += n;
        await connection.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    /// <summary>The length of the head (line, headers and the empty line), or -1 while it is incomplete.</summary>
    internal static int HeaderEnd(ReadOnlySpan<byte> data)
    {
        int i = data.IndexOf("\r\n\r\n"u8);
        return i < 0 ? -1 : i + 4;
    }

    private async Task<bool> Answer(TcpConnection c, HttpRequestHead? request, CancellationToken ct)
    {
        if (request is not { } r)
        {
            await Respond(c, 400, "Bad Request", close: true, ct);
            return false;
        }
        bool keepAlive = r.KeepAlive;
        if (r.HasBody)
        {
            await Respond(c, 413, "Content Too Large", close: true, ct); // nothing here takes a body, and skipping one unread is a smuggling risk
            return false;
        }
        if (r.Method is not ("GET" or "HEAD"))
        {
            await Respond(c, 405, "Method Not Allowed", !keepAlive, ct, "Allow: GET, HEAD\r\n");
            return keepAlive;
        }
        if (Resolve(r.Path) is not { } path)
        {
            await Respond(c, 404, "Not Found", !keepAlive, ct);
            return keepAlive;
        }
        Microsoft.Win32.SafeHandles.SafeFileHandle file;
        try
        {
            file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            await Respond(c, 404, "Not Found", !keepAlive, ct);
            return keepAlive;
        }
        using (file)
        {
            long length = RandomAccess.GetLength(file);
            long start = 0, count = length;
            int status = 200;
            string extra = "";
            if (r.Range is { } range)
            {
                if (!ByteRange.TryResolve(range, length, out start, out count))
                {
                    await Respond(c, 416, "Range Not Satisfiable", !keepAlive, ct, $"Content-Range: bytes */{length}\r\n");
                    return keepAlive;
                }
                status = 206;
                extra = $"Content-Range: bytes {start}-{start + count - 1}/{length}\r\n";
            }
            var head = Head(status, status == 206 ? "Partial Content" : "OK", count, !keepAlive, extra + "Content-Type: application/octet-stream\r\nAccept-Ranges: bytes\r\n");
            await c.WriteAsync(head, ct);
            if (r.Method == "GET" && count > 0) await c.SendFileAsync(file, start, count, ct);
        }
        return keepAlive;
    }

    /// <summary>The file a request path names, or null: outside the root, a directory, or nothing there.</summary>
    internal string? Resolve(string requestPath)
    {
        if (requestPath.Length == 0 || requestPath[0] != '/') return null;
        string decoded;
        try
        {
            decoded = Uri.UnescapeDataString(requestPath);
        }
        catch (UriFormatException)
        {
            return null;
        }
        if (decoded.Contains('\0') || decoded.Contains('\\')) return null;
        var full = Path.GetFullPath(Path.Join(_root, decoded));
        if (!full.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        var info = new FileInfo(full);
        if (!info.Exists) return null;
        // A link may point anywhere: what it reaches must be inside the root too.
        if (info.ResolveLinkTarget(returnFinalTarget: true) is { } target && !target.FullName.StartsWith(_root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) return null;
        return full;
    }

    private static ValueTask Respond(TcpConnection c, int status, string reason, bool close, CancellationToken ct, string extra = "")
    {
        var body = Encoding.ASCII.GetBytes($"{status} {reason}\n");
        byte[] response = [.. Head(status, reason, body.Length, close, extra + "Content-Type: text/plain\r\n"), .. body];
        return c.WriteAsync(response, ct);
    }

    private static byte[] Head(int status, string reason, long length, bool close, string extra) =>
        Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"HTTP/1.1 {status} {reason}\r\nServer: synack\r\nDate: {DateTime.UtcNow:R}\r\nContent-Length: {length}\r\n{extra}{(close ? "Connection: close\r\n" : "")}\r\n"));
}
