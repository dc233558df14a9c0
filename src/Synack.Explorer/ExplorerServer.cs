using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Synack.Scenarios;

namespace Synack.Explorer;

/// <summary>
/// The explorer's web app on loopback: the page, its assets (from this assembly: it works offline),
/// and the lab's API. Dispose to stop it.
/// </summary>
public sealed class ExplorerServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private ExplorerServer(WebApplication app, Uri url)
    {
        _app = app;
        Url = url;
    }

    /// <summary>Where the page is: http://127.0.0.1:PORT/.</summary>
    public Uri Url { get; }

    /// <summary>
    /// Starts the explorer on 127.0.0.1:<paramref name="port"/> (0: a free port); with
    /// <paramref name="live"/>, its live page follows the stacks that feed is attached to.
    /// </summary>
    public static async Task<ExplorerServer> StartAsync(int port = 0, LiveFeed? live = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, port);
            k.Limits.MaxRequestBodySize = CaptureStore.LargestUpload;
        });
        var app = builder.Build();
        Map(app);
        MapLive(app, live);
        await app.StartAsync(cancellationToken).ConfigureAwait(false);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new ExplorerServer(app, new Uri(address.Replace("[::]", "127.0.0.1", StringComparison.Ordinal).TrimEnd('/') + "/"));
    }

    /// <summary>Stops the server.</summary>
    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync().ConfigureAwait(false);
        await _app.DisposeAsync().ConfigureAwait(false);
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly ConcurrentDictionary<LabRequest, LabView> Runs = new();
    private static readonly CaptureStore Captures = new();
    private const int RunsKept = 64;

    private static void Map(WebApplication app)
    {
        app.MapGet("/", () => Asset("index.html"));
        app.MapGet("/{file}", (string file) => Asset(file));
        app.MapGet("/api/scenarios", () => Results.Json(
            ScenarioCatalog.All.Select(s => new ScenarioView(s.Name, s.Note, s.Description)).ToArray(), Json));
        app.MapGet("/api/lab", Lab);
        app.MapGet("/api/lab.pcapng", LabCapture);
        app.MapPost("/api/captures", OpenCapture);
        app.MapGet("/api/captures/{id}/report", (string id) => Captures.Report(id) is { } html
            ? Results.Content(html, "text/html; charset=utf-8")
            : Results.NotFound());
        app.MapGet("/api/captures/{id}/packets", (string id, int stream, int from, int count) =>
        {
            try
            {
                return Captures.Window(id, stream, from, count) is { } window
                    ? Results.Json(window, Json)
                    : Results.Json(new { error = "that capture is no longer open here: open it again" }, Json, statusCode: StatusCodes.Status404NotFound);
            }
            catch (LabRequestException ex)
            {
                return Results.Json(new { error = ex.Message }, Json, statusCode: StatusCodes.Status400BadRequest);
            }
        });
    }

    private static void MapLive(WebApplication app, LiveFeed? live)
    {
        app.MapGet("/api/live", () => Results.Json(new { enabled = live is not null, connections = live?.Connections() ?? [] }, Json));
        app.MapGet("/api/live/{id:int}/events", (int id) => live is null ? Results.NotFound() : Results.Json(live.Events(id), Json));
        app.MapGet("/api/live/{id:int}/capture", (int id) =>
        {
            if (live is null) return Results.NotFound();
            var stream = new MemoryStream();
            if (!live.WriteCapture(id, stream)) return Results.Json(new { error = $"connection {id} is no longer remembered" }, Json, statusCode: StatusCodes.Status404NotFound);
            stream.Position = 0;
            return Results.File(stream, "application/octet-stream", $"connection-{id}.pcapng");
        });
        app.MapGet("/api/live/stream", async (HttpContext http) =>
        {
            if (live is null)
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }
            // Server-sent events: each event as it happens, until the page goes away or the server stops.
            http.Response.ContentType = "text/event-stream";
            http.Response.Headers.CacheControl = "no-cache";
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, app.Lifetime.ApplicationStopping);
            var reader = live.Subscribe(stop.Token);
            await http.Response.WriteAsync(": following\n\n", stop.Token).ConfigureAwait(false);
            await http.Response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
            try
            {
                await foreach (var e in reader.ReadAllAsync(stop.Token).ConfigureAwait(false))
                {
                    await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(e, Json)}\n\n", stop.Token).ConfigureAwait(false);
                    if (reader.Count == 0) await http.Response.Body.FlushAsync(stop.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
    }

    private static async Task<IResult> OpenCapture(HttpRequest http)
    {
        string name = http.Query["name"].FirstOrDefault() is { Length: > 0 and <= 200 } n ? n : "capture";
        // The upload goes to a file first: the reader may look ahead, and a large capture should not sit in memory twice.
        string path = Path.Combine(Path.GetTempPath(), $"synack-explore-{Guid.NewGuid():N}");
        try
        {
            await using (var file = File.Create(path)) await http.Body.CopyToAsync(file).ConfigureAwait(false);
            await using var input = File.OpenRead(path);
            return Results.Json(Captures.Open(input, name), Json);
        }
        catch (LabRequestException ex)
        {
            return Results.Json(new { error = ex.Message }, Json, statusCode: StatusCodes.Status400BadRequest);
        }
        catch (BadHttpRequestException ex)
        {
            return Results.Json(new { error = $"the upload was refused: {ex.Message}" }, Json, statusCode: ex.StatusCode);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>The run a query asks for, as JSON; refused in words when it cannot be run.</summary>
    private static IResult Lab(HttpRequest http)
    {
        if (Request(http, out var request) is { } refused) return refused;
        if (!Runs.TryGetValue(request, out var view))
        {
            view = LabRun.Run(request).View;
            if (Runs.Count >= RunsKept) Runs.Clear(); // bounded, whatever the URLs asked for
            Runs[request] = view;
        }
        return Results.Json(view, Json);
    }

    /// <summary>The same run as pcapng, made afresh: the same request is the same run.</summary>
    private static IResult LabCapture(HttpRequest http)
    {
        if (Request(http, out var request) is { } refused) return refused;
        var (_, run) = LabRun.Run(request);
        var stream = new MemoryStream();
        CaptureExport.Write(run.Trace, stream);
        stream.Position = 0;
        return Results.File(stream, "application/octet-stream", $"{request.Scenario}.pcapng");
    }

    /// <summary>The lab request of a query, or the answer refusing it.</summary>
    private static IResult? Request(HttpRequest http, out LabRequest request)
    {
        try
        {
            request = LabRequest.Parse(http.Query);
            return null;
        }
        catch (LabRequestException ex)
        {
            request = null!;
            return Results.Json(new { error = ex.Message }, Json, statusCode: StatusCodes.Status400BadRequest);
        }
    }

    private static readonly Dictionary<string, string> AssetTypes = new()
    {
        [".html"] = "text/html; charset=utf-8", [".js"] = "text/javascript; charset=utf-8",
        [".css"] = "text/css; charset=utf-8", [".svg"] = "image/svg+xml", [".ico"] = "image/x-icon",
    };

    private static IResult Asset(string file)
    {
        if (!AssetTypes.TryGetValue(Path.GetExtension(file), out var type)) return Results.NotFound();
        var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("wwwroot/" + file);
        return stream is null ? Results.NotFound() : Results.Stream(stream, type);
    }
}
