using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Synack.Stack;

namespace Synack.Cli.Services;

/// <summary>
/// A small HTTP/1.1 server on a <see cref="TcpConnection"/>: <c>GET /bytes/N</c> (N deterministic bytes),
/// <c>POST /sha256</c> (the hex digest of the body), <c>GET /</c> (a page). Keep-alive, Content-Length
/// bodies, <c>Expect: 100-continue</c>. Enough for curl, not a general web server.
/// </summary>
public static class HttpService
{
    private const int MaxHeader = 16 * 1024;

    public static async Task ServeAsync(TcpConnection conn, CancellationToken ct)
    {
        await ServeRequestsAsync(conn, ct);
        // Every way out closes our side (a no-op after a reset), so no connection is left in CLOSE-WAIT.
        await conn.CloseAsync(TimeSpan.FromSeconds(10), CancellationToken.None);
    }

    private static async Task ServeRequestsAsync(TcpConnection conn, CancellationToken ct)
    {
        var stream = conn.GetStream();
        var buf = new byte[64 * 1024];
        int have = 0;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                // Read until the end of the header block.
                int end;
                while ((end = IndexOfHeaderEnd(buf.AsSpan(0, have))) < 0)
                {
                    if (have >= MaxHeader)
                    {
                        await Respond(stream, 431, "Request Header Fields Too Large", "text/plain", "header too large\n", ct, close: true);
                        return;
                    }
                    int n = await stream.ReadAsync(buf.AsMemory(have), ct);
                    if (n == 0) break; // the client closed between requests: close our side too
                    have += n;
                }
                if (end < 0) break;
                var head = Encoding.ASCII.GetString(buf, 0, end);
                int bodyStart = end + 4;
                var lines = head.Split("\r\n");
                var parts = lines[0].Split(' ');
                if (parts.Length != 3)
                {
                    await Respond(stream, 400, "Bad Request", "text/plain", "bad request line\n", ct, close: true);
                    return;
                }
                string method = parts[0], path = parts[1], version = parts[2];
                long contentLength = 0;
                bool close = version == "HTTP/1.0", expectContinue = false;
                foreach (var line in lines.Skip(1))
                {
                    int colon = line.IndexOf(':');
                    if (colon <= 0) continue;
                    var name = line[..colon].Trim().ToLowerInvariant();
                    var value = line[(colon + 1)..].Trim();
                    if (name == "content-length" && !long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out contentLength))
                    {
                        await Respond(stream, 400, "Bad Request", "text/plain", "bad content-length\n", ct, close: true);
                        return;
                    }
                    if (name == "connection") close = value.Equals("close", StringComparison.OrdinalIgnoreCase) || (close && !value.Equals("keep-alive", StringComparison.OrdinalIgnoreCase));
                    if (name == "expect" && value.Equals("100-continue", StringComparison.OrdinalIgnoreCase)) expectContinue = true;
                    if (name == "transfer-encoding")
                    {
                        await Respond(stream, 411, "Length Required", "text/plain", "send a Content-Length\n", ct, close: true);
                        return;
                    }
                }
                if (expectContinue) await stream.WriteAsync("HTTP/1.1 100 Continue\r\n\r\n"u8.ToArray(), ct);

                // The body: whatever came with the header, then the rest from the stream.
                using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                long remaining = contentLength;
                int inBuf = (int)Math.Min(have - bodyStart, remaining);
                sha.AppendData(buf, bodyStart, inBuf);
                remaining -= inBuf;
                int leftover = have - bodyStart - inBuf;
                Buffer.BlockCopy(buf, bodyStart + inBuf, buf, 0, leftover);
                have = leftover;
                var body = new byte[64 * 1024];
                while (remaining > 0)
                {
                    int n = await stream.ReadAsync(body.AsMemory(0, (int)Math.Min(body.Length, remaining)), ct);
                    if (n == 0) break;
                    sha.AppendData(body, 0, n);
                    remaining -= n;
                }
                if (remaining > 0) break; // the body was cut short

                if (method == "GET" && path == "/")
                {
                    await Respond(stream, 200, "OK", "text/html", "<!doctype html><title>synack</title><h1>Served by Synack</h1><p>A userspace TCP stack in C#.</p>\n", ct, close);
                }
                else if (method == "GET" && path.StartsWith("/bytes/", StringComparison.Ordinal) && long.TryParse(path["/bytes/".Length..], NumberStyles.None, CultureInfo.InvariantCulture, out long count))
                {
                    var header = $"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {count}\r\n{(close ? "Connection: close\r\n" : "")}\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(header), ct);
                    var chunk = new byte[64 * 1024];
                    for (long sent = 0; sent < count;)
                    {
                        int n = (int)Math.Min(chunk.Length, count - sent);
                        DeterministicBytes.Fill(sent, chunk.AsSpan(0, n));
                        await stream.WriteAsync(chunk.AsMemory(0, n), ct);
                        sent += n;
                    }
                }
                else if (method == "POST" && path == "/sha256")
                {
                    await Respond(stream, 200, "OK", "text/plain", Convert.ToHexStringLower(sha.GetHashAndReset()) + "\n", ct, close);
                }
                else
                {
                    await Respond(stream, 404, "Not Found", "text/plain", "try GET /, GET /bytes/N or POST /sha256\n", ct, close);
                }
                if (close) break;
            }
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException { InnerException: System.Net.Sockets.SocketException })
        {
            return; // the peer reset or timed out: nothing more to say to it
        }
        catch (OperationCanceledException)
        {
            return;
        }
    }

    private static async Task Respond(Stream stream, int status, string reason, string type, string body, CancellationToken ct, bool close)
    {
        var bytes = Encoding.UTF8.GetBytes(body);
        var header = $"HTTP/1.1 {status} {reason}\r\nContent-Type: {type}\r\nContent-Length: {bytes.Length}\r\n{(close ? "Connection: close\r\n" : "")}\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(header), ct);
        await stream.WriteAsync(bytes, ct);
    }

    private static int IndexOfHeaderEnd(ReadOnlySpan<byte> data) => data.IndexOf("\r\n\r\n"u8);
}
