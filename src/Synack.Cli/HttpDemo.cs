using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Synack.AspNetCore;
using Synack.Simulation;
using Synack.Stack;

namespace Synack.Cli;

/// <summary>
/// <c>synack demo --http N</c>: HttpClient sends N requests, one after another on one keep-alive
/// connection, to a minimal API on Kestrel; both run on Synack stacks joined by the simulated link,
/// on virtual time. One request at a time, so the seed decides the whole run, packets included.
/// </summary>
internal static class HttpDemo
{
    public static void Run(int requests, LinkConditions link, int seed, TextWriter output, FileInfo? capture)
    {
        var net = new SimulatedNetwork(seed) { SettleThreadPool = true };
        var server = net.AddHost("server", "192.0.2.2");
        var client = net.AddHost("client", "192.0.2.1");
        net.Connect(link, server, client);
        using var file = capture?.Create();
        using var tap = file is null ? null : new CaptureTap(file);
        tap?.Attach(client);
        tap?.Attach(server);
        net.Run(async () =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseSynack(server);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.AddServerHeader = false;
                k.Listen(IPAddress.Parse("192.0.2.2"), 80);
            });
            var app = builder.Build();
            // Kestrel dates its responses by the wall clock; the simulation's clock makes them replay.
            app.Use((context, next) =>
            {
                context.Response.Headers.Date = DateTimeOffset.UnixEpoch.Add(net.Now).ToString("r", CultureInfo.InvariantCulture);
                return next(context);
            });
            app.MapGet("/item/{n:int}", (int n) => Results.Text($"item {n}\n"));
            await app.StartAsync();
            using var http = new HttpClient(SynackHttp.CreateHandler(client)) { BaseAddress = new("http://192.0.2.2/") };
            for (int i = 1; i <= requests; i++)
            {
                var sent = net.Now;
                using var response = await http.GetAsync($"item/{i}");
                var body = await response.Content.ReadAsStringAsync();
                output.WriteLine($"{sent.TotalMilliseconds,10:F3} ms  GET /item/{i} -> {(int)response.StatusCode} {body.TrimEnd()} ({(net.Now - sent).TotalMilliseconds:F3} ms)");
            }
            await app.StopAsync();
        }, TimeSpan.FromHours(1));
        output.WriteLine($"{requests} requests in {net.Now.TotalSeconds:F3} s of virtual time; client: {client.Statistics}");
        if (capture is not null) output.WriteLine($"capture: {capture.FullName}");
    }
}
