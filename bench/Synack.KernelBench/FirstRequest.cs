using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Synack.AspNetCore;
using Synack.Simulation;

namespace Synack.KernelBench;

/// <summary>
/// The first request of a process: a minimal API on Kestrel answering HttpClient, over two Synack
/// stacks on a simulated network (settling the thread pool) or over the kernel's loopback. Each is
/// measured in a fresh process (<c>synack bench-first-request</c>), since the stall it watches for —
/// pool threads blocked on the simulation's loop while the pool injects new ones slowly — happens
/// only while the pool is small.
/// </summary>
public static class FirstRequest
{
    /// <summary>Milliseconds from the request to its answer, the server already started.</summary>
    public static async Task<double> MeasureAsync(bool simulated)
    {
        if (!simulated) return await OnLoopbackAsync();
        var net = new SimulatedNetwork(1) { SettleThreadPool = true };
        var server = net.AddHost("server", "192.0.2.2");
        var client = net.AddHost("client", "192.0.2.1");
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(1) }, server, client);
        double ms = 0;
        net.Run(async () =>
        {
            var app = Build(b => b.UseSynack(server), IPAddress.Parse("192.0.2.2"), 80);
            await app.StartAsync();
            using var http = new HttpClient(SynackHttp.CreateHandler(client)) { BaseAddress = new("http://192.0.2.2/") };
            ms = await TimeOneAsync(http);
            await app.StopAsync();
        }, TimeSpan.FromHours(1));
        return ms;
    }

    private static async Task<double> OnLoopbackAsync()
    {
        var app = Build(_ => { }, IPAddress.Loopback, 0);
        await app.StartAsync();
        var address = app.Urls.First();
        using var http = new HttpClient { BaseAddress = new(address) };
        double ms = await TimeOneAsync(http);
        await app.StopAsync();
        return ms;
    }

    private static WebApplication Build(Action<IWebHostBuilder> transport, IPAddress address, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        transport(builder.WebHost);
        builder.WebHost.ConfigureKestrel(k => k.Listen(address, port));
        var app = builder.Build();
        app.MapGet("/", () => "hi");
        return app;
    }

    private static async Task<double> TimeOneAsync(HttpClient http)
    {
        var t = Stopwatch.StartNew();
        var body = await http.GetStringAsync("/");
        if (body != "hi") throw new InvalidOperationException($"the first request was answered '{body}'");
        return t.Elapsed.TotalMilliseconds;
    }

    /// <summary>Each side's first request in fresh processes, taking turns; the medians, as a row.</summary>
    internal static BenchRow Row(int runs, Action<string> progress)
    {
        if (SynackProgram.Self() is not { } self)
            return new BenchRow("first request", "Kestrel over a simulated network", "ms", null, null, "") { Note = "runs only from the synack program (it starts itself again)" };
        var simulated = new List<double>();
        var loopback = new List<double>();
        for (int i = 0; i < runs; i++)
        {
            progress($"first request: fresh processes, turn {i + 1} of {runs}");
            simulated.Add(InChild(self, "simulated"));
            loopback.Add(InChild(self, "loopback"));
        }
        simulated.Sort();
        loopback.Sort();
        return new BenchRow("first request", "Kestrel answering HttpClient on a simulated network (a fresh process)", "ms",
            simulated[simulated.Count / 2], loopback[loopback.Count / 2], "Kestrel on the kernel's loopback", HigherIsBetter: false) { Target = 2.0 };
    }

    private static double InChild(string[] self, string on)
    {
        var text = Tun.NetworkNamespace.Run(self[0], TimeSpan.FromMinutes(2), [.. self[1..], "bench-first-request", "--on", on]);
        return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
    }
}
