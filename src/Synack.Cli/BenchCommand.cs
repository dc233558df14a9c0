using System.CommandLine;
using System.Globalization;
using Synack.Cli.Bench;
using Synack.Tcp;

namespace Synack.Cli;

/// <summary>
/// <c>synack bench</c>: Synack beside the Linux kernel in the same run, so both share the machine and
/// the moment. Each figure is the median of its runs; nothing here is asserted, only shown against the
/// targets of the data-path issue.
/// </summary>
internal static class BenchCommand
{
    private static readonly string[] AllGroups = ["bulk", "connections", "latency", "idle", "time-wait", "loss", "tun"];

    public static Command Create(TextWriter output, TextWriter error)
    {
        var only = new Option<string[]>("--only") { Description = $"run only these groups ({string.Join(", ", AllGroups)})", AllowMultipleArgumentsPerToken = true };
        var quick = new Option<bool>("--quick") { Description = "small sizes and one run each: a smoke test, not a measurement" };
        var bytes = new Option<long?>("--bytes") { Description = "bytes per bulk stream (default 512 MiB, quick 32 MiB)" };
        var idle = new Option<int?>("--idle") { Description = "idle connections to open for the memory figure (default 100,000; up to 5,080,000)" };
        var timeWait = new Option<int?>("--time-wait") { Description = "TIME-WAIT entries to make for the memory figure (default 100,000)" };
        var json = new Option<string?>("--json") { Description = "also write the results as JSON to this file ('-': standard output, the table then goes to standard error)" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "also write the table as Markdown (for docs/benchmarks.md)" };
        var cmd = new Command("bench", "measure Synack beside the Linux kernel in one run: bulk streams, connection rate, latency, memory per connection and per TIME-WAIT entry, goodput under loss, and (as root) TUN downloads and Kestrel under wrk and h2load")
        {
            only, quick, bytes, idle, timeWait, json, markdown,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var groups = parse.GetValue(only) is { Length: > 0 } chosen ? chosen.SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray() : AllGroups;
            if (groups.FirstOrDefault(g => !AllGroups.Contains(g)) is { } unknown)
            {
                error.WriteLine($"synack bench: no group '{unknown}' (there are {string.Join(", ", AllGroups)})");
                return 2;
            }
            bool q = parse.GetValue(quick);
            var plan = new Plan(
                Bytes: parse.GetValue(bytes) ?? (q ? 32L << 20 : 512L << 20),
                Runs: q ? 1 : 3,
                Connections: q ? 200 : 5000,
                Rounds: q ? 500 : 10_000,
                Idle: parse.GetValue(idle) ?? (q ? 2_000 : 100_000),
                TimeWait: parse.GetValue(timeWait) ?? (q ? 2_000 : 100_000),
                LossBytes: q ? 2L << 20 : 16L << 20);
            if (plan.Bytes <= 0 || plan.Idle <= 0 || plan.TimeWait <= 0)
            {
                error.WriteLine("synack bench: --bytes, --idle and --time-wait take a positive count");
                return 2;
            }
            string? jsonPath = parse.GetValue(json);
            var table = jsonPath == "-" ? error : output;
            var rows = new List<BenchRow>();
            int step = 0;
            void Progress(string what)
            {
                error.WriteLine($"[{step}/{groups.Length}] {what}");
                error.Flush();
            }
            foreach (var group in groups)
            {
                step++;
                ct.ThrowIfCancellationRequested();
                Progress(group + "…");
                try
                {
                    rows.AddRange(group switch
                    {
                        "bulk" => await BulkAsync(plan, Progress),
                        "connections" => await ConnectionsAsync(plan, Progress),
                        "latency" => await LatencyAsync(plan),
                        "idle" => [Idle(plan, Progress)],
                        "time-wait" => [TimeWait(plan, Progress)],
                        "loss" => [Loss(plan)],
                        _ => TunBench.Run(q, Progress),
                    });
                }
                catch (Exception e) when (e is InvalidOperationException or System.Net.Sockets.SocketException or IOException or ArgumentOutOfRangeException)
                {
                    rows.Add(new BenchRow(group, "failed", "", null, null, "") { Note = e.Message });
                    error.WriteLine($"synack bench: {group} failed: {e.Message}");
                }
            }
            table.WriteLine();
            table.Write(BenchReport.Text(rows, markdown: false));
            if (parse.GetValue(markdown) is { } md) await File.WriteAllTextAsync(md.FullName, BenchReport.Text(rows, markdown: true), ct);
            if (jsonPath is not null)
            {
                var text = BenchReport.Json(rows, Machine());
                if (jsonPath == "-") output.Write(text);
                else await File.WriteAllTextAsync(jsonPath, text, ct);
            }
            return rows.Any(r => r.Name == "failed") ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>The kernel's half of a bulk row, run by the bench inside a namespace of its own.</summary>
    public static Command CreateKernelBulk(TextWriter output)
    {
        var bytes = new Option<long>("--bytes") { Required = true };
        var cmd = new Command("bench-kernel-bulk", "(used by synack bench) the kernel's bulk stream over loopback, in Gbit/s") { bytes };
        cmd.Hidden = true;
        cmd.SetAction(async parse =>
        {
            await using var kernel = new KernelPeers();
            var t = await kernel.BulkAsync(parse.GetValue(bytes));
            output.WriteLine(Gbps(parse.GetValue(bytes), t).ToString(CultureInfo.InvariantCulture));
            return 0;
        });
        return cmd;
    }

    private sealed record Plan(long Bytes, int Runs, int Connections, int Rounds, int Idle, int TimeWait, long LossBytes);

    private static ConnectionOptions Bulk(ushort mss) => ConnectionOptions.Default with { Mss = mss, ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };

    private static async Task<BenchRow[]> BulkAsync(Plan plan, Action<string> progress)
    {
        async Task<double> Median(Func<Task<double>> run)
        {
            var v = new List<double>();
            for (int i = 0; i < plan.Runs; i++) v.Add(await run());
            v.Sort();
            return v[v.Count / 2];
        }
        async Task<double> SynackGbps(ushort mss)
        {
            await using var peers = new SynackPeers(Bulk(mss));
            return Gbps(plan.Bytes, await peers.BulkAsync(plan.Bytes));
        }
        async Task<double> KernelGbps()
        {
            await using var peers = new KernelPeers();
            return Gbps(plan.Bytes, await peers.BulkAsync(plan.Bytes));
        }
        string size = plan.Bytes >= 1 << 20 ? $"{plan.Bytes >> 20} MiB" : $"{plan.Bytes} B";
        progress($"bulk: Synack at MSS 1460 ({size}, {plan.Runs} runs)");
        double s1460 = await Median(() => SynackGbps(1460));
        progress("bulk: the kernel over a loopback at MTU 1500 (a namespace of its own)");
        var runs = new List<double>();
        string? why = null;
        for (int i = 0; i < plan.Runs && why is null; i++)
        {
            if (KernelNamespace.BulkGbps(1500, plan.Bytes, out why) is double g) runs.Add(g);
        }
        runs.Sort();
        double? k1500 = runs.Count > 0 ? runs[runs.Count / 2] : null;
        progress("bulk: Synack at MSS 65495");
        double s65495 = await Median(() => SynackGbps(65495));
        progress("bulk: the kernel over loopback (MTU 65536)");
        double k65536 = await Median(KernelGbps);
        return
        [
            new BenchRow("bulk in memory", "one stream, MSS 1460", "Gbit/s", s1460, k1500, "kernel, loopback MTU 1500") { Target = k1500 is null ? null : 1.0, Note = why },
            new BenchRow("bulk in memory", "one stream, MSS 65495", "Gbit/s", s65495, k65536, "kernel, loopback MTU 65536") { Target = 1.0 },
        ];
    }

    private static async Task<BenchRow[]> ConnectionsAsync(Plan plan, Action<string> progress)
    {
        var rows = new List<BenchRow>();
        foreach (int parallel in new[] { 1, 16 })
        {
            progress($"connections: {plan.Connections} × (connect, 1 byte each way, abort), {parallel} at a time");
            await using var synack = new SynackPeers(ConnectionOptions.Default);
            await using var kernel = new KernelPeers();
            // A whole run each to warm up: a few hundred connections left both sides' code (ours, and
            // .NET's sockets over the kernel) still unoptimized by the tiered JIT for most of the run.
            await synack.ShortConnectionsAsync(plan.Connections, parallel);
            await kernel.ShortConnectionsAsync(plan.Connections, parallel);
            var sRuns = new List<double>();
            var kRuns = new List<double>();
            for (int run = 0; run < plan.Runs; run++)
            {
                sRuns.Add(plan.Connections / (await synack.ShortConnectionsAsync(plan.Connections, parallel)).TotalSeconds);
                kRuns.Add(plan.Connections / (await kernel.ShortConnectionsAsync(plan.Connections, parallel)).TotalSeconds);
            }
            sRuns.Sort();
            kRuns.Sort();
            double s = sRuns[sRuns.Count / 2], k = kRuns[kRuns.Count / 2];
            rows.Add(new BenchRow("connection rate", $"{parallel} in parallel", "conn/s", s, k, "kernel, loopback") { Target = 2.0 });
        }
        return [.. rows];
    }

    private static async Task<BenchRow[]> LatencyAsync(Plan plan)
    {
        await using var synack = new SynackPeers(ConnectionOptions.Default);
        await using var kernel = new KernelPeers();
        await synack.PingPongAsync(Math.Min(500, plan.Rounds));
        await kernel.PingPongAsync(Math.Min(500, plan.Rounds));
        var s = await synack.PingPongAsync(plan.Rounds);
        var k = await kernel.PingPongAsync(plan.Rounds);
        Array.Sort(s);
        Array.Sort(k);
        double P(double[] v, double p) => v[Math.Min(v.Length - 1, (int)(p * v.Length))];
        return
        [
            new BenchRow("request/response", "1 byte round trip, p50", "µs", P(s, 0.5), P(k, 0.5), "kernel, loopback", HigherIsBetter: false),
            new BenchRow("request/response", "1 byte round trip, p99", "µs", P(s, 0.99), P(k, 0.99), "kernel, loopback", HigherIsBetter: false),
        ];
    }

    private static BenchRow Idle(Plan plan, Action<string> progress) =>
        new("memory", $"idle connection ({plan.Idle:N0} open)", "B/endpoint", ScaleBench.IdleBytesPerEndpoint(plan.Idle, m => progress("idle: " + m)), null, "", HigherIsBetter: false)
        {
            Target = 1024,
            Note = "the kernel's is not taken from here",
        };

    private static BenchRow TimeWait(Plan plan, Action<string> progress) =>
        new("memory", $"TIME-WAIT entry ({plan.TimeWait:N0})", "B/entry", ScaleBench.TimeWaitBytesPerEntry(plan.TimeWait, m => progress("time-wait: " + m)), null, "", HigherIsBetter: false)
        {
            Target = 128,
            Note = "the kernel's is not taken from here",
        };

    private static BenchRow Loss(Plan plan)
    {
        var (goodput, mathis) = LossBench.Run(plan.LossBytes, loss: 0.01, rtt: TimeSpan.FromMilliseconds(20));
        return new BenchRow("loss (simulated link)", "1 % loss, 20 ms RTT, MSS 1460", "Mbit/s", goodput / 1e6, mathis / 1e6, "Mathis bound") { Target = 0.8 };
    }

    private static double Gbps(long bytes, TimeSpan t) => bytes * 8 / t.TotalSeconds / 1e9;

    private static Dictionary<string, string> Machine() => new()
    {
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["root"] = Environment.IsPrivilegedProcess ? "yes" : "no",
    };
}
