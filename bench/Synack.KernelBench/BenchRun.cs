using System.Globalization;
using Synack.Tcp;

namespace Synack.KernelBench;

/// <summary>What one <c>synack bench</c> run measures: sizes, counts and how many runs each figure's median takes.</summary>
public sealed record BenchPlan(long Bytes, int Runs, int Connections, int Rounds, int Idle, int TimeWait, long LossBytes, int Hold = 1_000_000)
{
    /// <summary>The plan for a full measurement (3 runs each), or with <paramref name="quick"/> a smoke test (1 run, small sizes).</summary>
    public static BenchPlan For(bool quick, long? bytes = null, int? idle = null, int? timeWait = null, int? hold = null) => new(
        Bytes: bytes ?? (quick ? 32L << 20 : 512L << 20),
        Runs: quick ? 1 : 3,
        Connections: quick ? 200 : 5000,
        Rounds: quick ? 500 : 10_000,
        Idle: idle ?? (quick ? 2_000 : 100_000),
        TimeWait: timeWait ?? (quick ? 2_000 : 100_000),
        LossBytes: quick ? 2L << 20 : 16L << 20,
        Hold: hold ?? (quick ? 10_000 : 1_000_000));

    public bool Quick => Runs == 1;
}

/// <summary>
/// Synack beside the Linux kernel in the same run, so both share the machine and the moment. Each
/// figure is the median of its runs; nothing here is asserted, only shown against targets.
/// </summary>
public static class BenchRun
{
    /// <summary>The groups of rows, in the order a full run takes them.</summary>
    public static readonly IReadOnlyList<string> Groups = ["bulk", "connections", "latency", "idle", "time-wait", "loss", "first-request", "tun", "hold"];

    /// <summary>Runs one group; <paramref name="progress"/> hears what it is doing.</summary>
    public static async Task<IReadOnlyList<BenchRow>> GroupAsync(string group, BenchPlan plan, Action<string> progress) => group switch
    {
        "bulk" => await BulkAsync(plan, progress),
        "connections" => await ConnectionsAsync(plan, progress),
        "latency" => await LatencyAsync(plan),
        "idle" => [Idle(plan, progress)],
        "time-wait" => [TimeWait(plan, progress)],
        "loss" => [Loss(plan)],
        "first-request" => [FirstRequest.Row(plan.Runs, progress)],
        "tun" => TunBench.Run(plan.Quick, progress),
        "hold" => HoldBench.Run(plan.Hold, progress),
        _ => throw new ArgumentOutOfRangeException(nameof(group), $"no group '{group}' (there are {string.Join(", ", Groups)})"),
    };

    /// <summary>The kernel's half of a bulk row (over loopback, in Gbit/s): run by the bench inside a namespace of its own.</summary>
    public static async Task<double> KernelBulkGbpsAsync(long bytes)
    {
        await using var kernel = new KernelPeers();
        return Gbps(bytes, await kernel.BulkAsync(bytes));
    }

    /// <summary>What the figures were measured on.</summary>
    public static Dictionary<string, string> Machine() => new()
    {
        ["date"] = DateTime.UtcNow.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["runtime"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
        ["root"] = Environment.IsPrivilegedProcess ? "yes" : "no",
    };

    private static ConnectionOptions Bulk(ushort mss) => ConnectionOptions.Default with { Mss = mss, ReceiveBufferSize = 4 << 20, SendBufferSize = 4 << 20 };

    private static async Task<BenchRow[]> BulkAsync(BenchPlan plan, Action<string> progress)
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

    private static async Task<BenchRow[]> ConnectionsAsync(BenchPlan plan, Action<string> progress)
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

    private static async Task<BenchRow[]> LatencyAsync(BenchPlan plan)
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

    private static BenchRow Idle(BenchPlan plan, Action<string> progress) =>
        new("memory", $"idle connection ({plan.Idle:N0} open)", "B/endpoint", ScaleBench.IdleBytesPerEndpoint(plan.Idle, m => progress("idle: " + m)), null, "", HigherIsBetter: false)
        {
            Target = 1024,
            Note = "the kernel's is not taken from here",
        };

    private static BenchRow TimeWait(BenchPlan plan, Action<string> progress) =>
        new("memory", $"TIME-WAIT entry ({plan.TimeWait:N0})", "B/entry", ScaleBench.TimeWaitBytesPerEntry(plan.TimeWait, m => progress("time-wait: " + m)), null, "", HigherIsBetter: false)
        {
            Target = 128,
            Note = "the kernel's is not taken from here",
        };

    private static BenchRow Loss(BenchPlan plan)
    {
        var (goodput, mathis) = LossBench.Run(plan.LossBytes, loss: 0.01, rtt: TimeSpan.FromMilliseconds(20));
        return new BenchRow("loss (simulated link)", "1 % loss, 20 ms RTT, MSS 1460", "Mbit/s", goodput / 1e6, mathis / 1e6, "Mathis bound") { Target = 0.8 };
    }

    private static double Gbps(long bytes, TimeSpan t) => bytes * 8 / t.TotalSeconds / 1e9;
}
