using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;
using Synack.AspNetCore;
using Synack.Stack;
using Synack.Tcp;

namespace Synack.Services;

/// <summary>
/// What <c>synack serve</c> answers on port 80 (HTTP/1.1) and 8080 (HTTP/2 with prior knowledge), as an ASP.NET Core minimal API on Kestrel over the
/// stack: <c>GET /</c> (a page), <c>GET /bytes/N</c> (N bytes, byte i = i mod 251), <c>POST /sha256</c>
/// (the hex digest of the body).
/// </summary>
public static class HttpApp
{
    /// <param name="kernel">Also serve the same app on this endpoint through the kernel's sockets (Kestrel's
    /// default transport, beside Synack's), for a comparison in one process: HTTP/1.1 on its port, h2c on the next.</param>
    public static WebApplication Build(NetworkStack stack, IPAddress address, int port = 80, int h2cPort = 8080, IPEndPoint? kernel = null) =>
        Build([stack], address, port, h2cPort, kernel);

    /// <param name="shards">One stack, or the shards of a multi-queue device: Kestrel listens on each.</param>
    public static WebApplication Build(IReadOnlyList<NetworkStack> shards, IPAddress address, int port = 80, int h2cPort = 8080, IPEndPoint? kernel = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSynack(shards);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = null; // uploads of any size, as the hand-written server took them
            k.Listen(address, port, l => l.Protocols = HttpProtocols.Http1);
            // Cleartext HTTP/2 needs its own port: without TLS there is no ALPN to choose by (curl --http2-prior-knowledge, h2load).
            k.Listen(address, h2cPort, l => l.Protocols = HttpProtocols.Http2);
            if (kernel is not null)
            {
                k.Listen(kernel, l => l.Protocols = HttpProtocols.Http1);
                k.Listen(new IPEndPoint(kernel.Address, kernel.Port + 1), l => l.Protocols = HttpProtocols.Http2);
            }
        });
        var app = builder.Build();
        app.MapGet("/", () => Results.Content("<!doctype html><title>synack</title><h1>Served by Synack</h1><p>A userspace TCP stack in C#, under ASP.NET Core.</p>\n", "text/html"));
        app.MapGet("/bytes/{count:long}", async (long count, HttpResponse response) =>
        {
            if (count < 0) return Results.BadRequest("a count of bytes cannot be negative\n");
            response.ContentType = "application/octet-stream";
            response.ContentLength = count;
            // Pooled, and no bigger than the response: a 100-byte answer must not cost a 64 KiB array.
            var chunk = System.Buffers.ArrayPool<byte>.Shared.Rent((int)Math.Clamp(count, 1, 64 * 1024));
            try
            {
                for (long sent = 0; sent < count;)
                {
                    int n = (int)Math.Min(Math.Min(chunk.Length, 64 * 1024), count - sent);
                    DeterministicBytes.Fill(sent, chunk.AsSpan(0, n));
                    await response.Body.WriteAsync(chunk.AsMemory(0, n));
                    sent += n;
                }
            }
            finally
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(chunk);
            }
            return Results.Empty;
        });
        app.MapPost("/sha256", async (HttpRequest request) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            int n;
            while ((n = await request.Body.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, n);
            return Results.Text(Convert.ToHexStringLower(sha.GetHashAndReset()) + "\n");
        });
        // What the server holds, for the bench's memory rows (read through the kernel's endpoint, so the
        // reading adds no connection to what it counts): ?gc=1 collects fully first, for a heap of live objects only.
        app.MapGet("/stats", (bool? gc, bool? states) =>
        {
            if (gc == true)
            {
                System.Runtime.GCSettings.LargeObjectHeapCompactionMode = System.Runtime.GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            }
            // Read before anything below allocates: counting states walks a snapshot of every connection,
            // and at a million connections what that allocated was promoted and counted as heap (1,626 B
            // a connection against the 1,363 that dotnet-gcdump found in their objects).
            long heap = GC.GetTotalMemory(false), rss = Environment.WorkingSet;
            var info = GC.GetGCMemoryInfo(gc == true ? GCKind.FullBlocking : GCKind.Any);
            long connections = 0, timeWait = 0, orphans = 0;
            // ?states=true: how many connections are in each state, and how many of those have no timer
            // running (a connection with neither a timer nor an application to move it stays forever).
            var byState = new SortedDictionary<string, long>(StringComparer.Ordinal);
            foreach (var shard in shards)
            {
                void Count()
                {
                    connections += shard.ConnectionCount;
                    timeWait += shard.TimeWaitCount;
                    orphans += shard.OrphanCount;
                    if (states != true) return;
                    var st = shard.Statistics;
                    void Add(string key, long n) => byState[key] = byState.GetValueOrDefault(key) + n;
                    Add("connections.accepted", st.ConnectionsAccepted);
                    Add("cookies.sent", st.SynCookiesSent);
                    Add("cookies.valid", st.SynCookiesValid);
                    Add("rst.sent", st.ResetsSent);
                    foreach (var r in Enum.GetValues<DropReason>()) Add("dropped." + r, st.Dropped(r));
                    foreach (var s in shard.Snapshot())
                    {
                        if (s.Tuple is null) continue; // a listener
                        string key = "state." + s.State + (s.Timers.Count == 0 ? ".untimed" : "");
                        Add(key, 1);
                    }
                }
                if (shard.Loop is { } loop) loop.Invoke(Count);
                else Count();
            }
            var text = new System.Text.StringBuilder(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"heap {heap}\nfragmented {info.FragmentedBytes}\nrss {rss}\nconnections {connections}\ntimewait {timeWait}\norphans {orphans}\n"));
            foreach (var (state, n) in byState) text.Append(System.Globalization.CultureInfo.InvariantCulture, $"{state} {n}\n");
            return Results.Text(text.ToString());
        });
        app.MapFallback(() => Results.NotFound("try GET /, GET /bytes/N, GET /stats or POST /sha256\n"));
        return app;
    }
}
