using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Tun;

namespace Synack.KernelBench;

/// <summary>
/// Synack on a TUN device against the kernel, in a namespace of the bench's own: <c>synack serve</c>
/// runs inside it with the same ASP.NET Core app on Kestrel over Synack (192.0.2.2, through the TUN
/// device) and on Kestrel over the kernel's sockets (192.0.2.1), and the kernel's own tools load both
/// in one run: curl downloads, wrk (HTTP/1.1) and h2load (HTTP/2). Needs root; a missing tool skips its rows.
/// </summary>
internal static partial class TunBench
{
    private const string StackAddress = "192.0.2.2";
    private const string KernelAddress = "192.0.2.1";
    private const string Group = "TUN, MTU 1500";

    public static List<BenchRow> Run(bool quick, Action<string> progress)
    {
        if (NetworkNamespace.WhyNot(tun: true) is { } why) return [Skipped("everything", why)];
        if (SynackProgram.Self() is not { } self) return [Skipped("everything", "runs only from the synack program (it starts synack serve inside the namespace)")];
        var rows = new List<BenchRow>();
        long bytes = quick ? 16L << 20 : 500L << 20;
        int runs = Runs(quick);
        using var www = new ServedFile(bytes);
        using var ns = NetworkNamespace.Create("synack-bench");
        progress("tun: synack serve in a namespace of its own");
        var serve = ns.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), [.. self, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", "--kernel-http", "8081", "--files", www.Directory]);
        const string OnKernel = "Kestrel on the kernel's sockets";

        if (Tool("curl") is { } curl)
        {
            progress($"tun: curl downloads {bytes >> 20} MiB from each, {runs} times after a warm-up");
            // A method the runtime compiles again with PGO after 30 calls is called once a request: a
            // curl row's few big requests were still paying for those compilations (80–250 ms of the
            // tiering thread's CPU in a 0.4 s download, after three warm-ups). Small requests first.
            WarmUpRequests(quick,
                () => Curl(ns, serve.Id, curl, $"http://{StackAddress}/bytes/{SmallTransfer}", SmallTransfer),
                () => Curl(ns, serve.Id, curl, $"http://{KernelAddress}:8081/bytes/{SmallTransfer}", SmallTransfer));
            var (sd, kd) = Turns(runs,
                () => Curl(ns, serve.Id, curl, $"http://{StackAddress}/bytes/{bytes}", bytes),
                () => Curl(ns, serve.Id, curl, $"http://{KernelAddress}:8081/bytes/{bytes}", bytes));
            rows.AddRange(RateAndCost($"curl download {bytes >> 20} MiB", sd, kd, OnKernel, 1.0));
            progress($"tun: curl uploads {bytes >> 20} MiB to each (POST /sha256)");
            var upload = Path.Combine(Path.GetTempPath(), $"synack-bench-upload-{Environment.ProcessId}");
            try
            {
                using (var f = File.Create(upload)) f.SetLength(bytes); // sparse: zeros, no disk
                var small = upload + ".small";
                using (var f = File.Create(small)) f.SetLength(SmallTransfer);
                try
                {
                    WarmUpRequests(quick,
                        () => Curl(ns, serve.Id, curl, $"http://{StackAddress}/sha256", SmallTransfer, small),
                        () => Curl(ns, serve.Id, curl, $"http://{KernelAddress}:8081/sha256", SmallTransfer, small));
                }
                finally
                {
                    File.Delete(small);
                }
                var (su, ku) = Turns(runs,
                    () => Curl(ns, serve.Id, curl, $"http://{StackAddress}/sha256", bytes, upload),
                    () => Curl(ns, serve.Id, curl, $"http://{KernelAddress}:8081/sha256", bytes, upload));
                rows.AddRange(RateAndCost($"curl upload {bytes >> 20} MiB (POST /sha256)", su, ku, OnKernel, 1.0));
            }
            finally
            {
                File.Delete(upload);
            }
            if (OperatingSystem.IsLinux() && File.Exists("/usr/sbin/nginx"))
            {
                progress($"tun: curl downloads {bytes >> 20} MiB from nginx on the kernel side and from Synack's file server, by turns");
                try
                {
                    var nginx = StartNginx(ns, curl, www);
                    var (sf, kn) = Turns(runs,
                        () => Curl(ns, serve.Id, curl, $"http://{StackAddress}:8000/{ServedFile.Name}", bytes),
                        () => Curl(ns, nginx.Id, curl, $"http://{KernelAddress}:8088/{ServedFile.Name}", bytes));
                    rows.AddRange(RateAndCost($"curl download {bytes >> 20} MiB file, Synack's file server (sendfile) against nginx", sf, kn, "nginx on the kernel (sendfile)", 1.0));
                    rows.Add(BenchRow.Medians(Group, $"curl download {bytes >> 20} MiB, Kestrel over Synack against nginx", "Gbit/s", Rates(sd), Rates(kn), "nginx on the kernel (sendfile)"));
                }
                catch (InvalidOperationException e)
                {
                    rows.Add(Skipped("curl download against nginx", "nginx did not serve: " + e.Message));
                }
            }
            else rows.Add(Skipped("curl download against nginx", "nginx (nginx-light) is not installed"));
        }
        else rows.Add(Skipped("curl download", "curl is not installed"));

        string duration = quick ? "1s" : "3s";
        string requests = quick ? "2000" : "100000"; // about a second each: 20,000 took a quarter of one, and its spread was half the median
        if (Tool("wrk") is { } wrk)
        {
            progress($"tun: wrk, 16 connections, GET /bytes/100, {runs} times each after a warm-up");
            var (s, k) = Turns(runs,
                () => Wrk(ns, serve.Id, [wrk, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{StackAddress}/bytes/100"]),
                () => Wrk(ns, serve.Id, [wrk, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{KernelAddress}:8081/bytes/100"]));
            rows.AddRange(RateAndCost("Kestrel, HTTP/1.1 (wrk -c16)", s, k, OnKernel, 1.0));
        }
        else rows.Add(Skipped("wrk", "wrk is not installed"));

        if (Tool("h2load") is { } h2load)
        {
            progress($"tun: h2load, 8 connections × 16 streams, GET /bytes/100, {runs} times each after a warm-up");
            var (s, k) = Turns(runs,
                () => H2load(ns, serve.Id, [h2load, "-n", requests, "-c", "8", "-m", "16", "-T", "10", $"http://{StackAddress}:8080/bytes/100"]),
                () => H2load(ns, serve.Id, [h2load, "-n", requests, "-c", "8", "-m", "16", "-T", "10", $"http://{KernelAddress}:8082/bytes/100"]));
            rows.AddRange(RateAndCost("Kestrel, HTTP/2 cleartext (h2load -c8 -m16)", s, k, OnKernel, 1.0));
        }
        else rows.Add(Skipped("h2load", "h2load (nghttp2-client) is not installed"));

        if (Tool("wrk") is { } wrk2) rows.AddRange(Shards(self, ns, serve, wrk2, duration, runs, progress));
        return rows;
    }

    /// <summary>
    /// One shard against two (a multi-queue device, a shard on each queue, in a namespace of its own),
    /// the load generator pinned to a core of its own so the server's share of the machine is the same
    /// in both. On two cores the server has one core either way, so the figure that says whether shards
    /// add up is the CPU a request costs, not the rate.
    /// </summary>
    private static List<BenchRow> Shards(string[] self, NetworkNamespace ns, NamespaceProcess serve, string wrk, string duration, int runs, Action<string> progress)
    {
        using var sharded = NetworkNamespace.Create("synack-bench");
        progress("tun: synack serve --shards 2 (a multi-queue device) in another namespace; wrk pinned to the last core");
        var two = sharded.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), [.. self, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", "--shards", "2"]);
        string[] pinned = Environment.ProcessorCount > 1 && Tool("taskset") is { } taskset ? [taskset, "-c", (Environment.ProcessorCount - 1).ToString(CultureInfo.InvariantCulture)] : [];
        string[] load = [.. pinned, wrk, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{StackAddress}/bytes/100"];
        var (s2, s1) = Turns(runs, () => Wrk(sharded, two.Id, load), () => Wrk(ns, serve.Id, load));
        string name = pinned.Length > 0 ? "Kestrel, HTTP/1.1 (wrk -c16 on a core of its own), 2 shards" : "Kestrel, HTTP/1.1 (wrk -c16), 2 shards";
        return
        [
            BenchRow.Medians(Group, name, "req/s", Rates(s2), Rates(s1), "Synack, 1 shard") with { Target = 1.3 },
            BenchRow.Medians(Group, name + ": CPU per 10,000 requests", "CPU ms", Costs(s2), Costs(s1), "Synack, 1 shard", higherIsBetter: false) with { Target = 1.1 },
        ];
    }

    /// <summary>One measured run: the rate the tool reports, and the CPU it cost per unit of work (per GiB, or per 10,000 requests).</summary>
    private readonly record struct Turn(double Rate, string RateUnit, double Cost, string CostUnit);

    private const long SmallTransfer = 2L << 20;

    /// <summary>Forty small requests to each side, uncounted, so per-request code is compiled as it will stay (one in quick mode).</summary>
    private static void WarmUpRequests(bool quick, Func<Turn> synack, Func<Turn> reference)
    {
        for (int i = 0, n = quick ? 1 : 40; i < n; i++)
        {
            synack();
            reference();
        }
    }

    /// <summary>
    /// Warm-ups of each (uncounted: a .NET server's first requests run unoptimized code, and the JIT kept
    /// recompiling hot methods through the second 500 MiB download — 12 % of the machine in a profile of
    /// the third), then <paramref name="runs"/> turns, Synack and the reference taking turns.
    /// </summary>
    private static (List<Turn> Synack, List<Turn> Reference) Turns(int runs, Func<Turn> synack, Func<Turn> reference)
    {
        for (int i = 0, warmUps = runs > 1 ? 3 : 1; i < warmUps; i++)
        {
            synack();
            reference();
        }
        var s = new List<Turn>();
        var r = new List<Turn>();
        for (int i = 0; i < runs; i++)
        {
            s.Add(synack());
            r.Add(reference());
        }
        return (s, r);
    }

    private static List<double> Rates(List<Turn> turns) => turns.ConvertAll(t => t.Rate);
    private static List<double> Costs(List<Turn> turns) => turns.ConvertAll(t => t.Cost);

    /// <summary>The rate row (against <paramref name="target"/>) and the CPU row beside it (Synack's cost at most the reference's).</summary>
    private static BenchRow[] RateAndCost(string name, List<Turn> synack, List<Turn> reference, string referenceName, double target) =>
    [
        BenchRow.Medians(Group, name, synack[0].RateUnit, Rates(synack), Rates(reference), referenceName) with { Target = target },
        BenchRow.Medians(Group, $"{name}: {synack[0].CostUnit}", "CPU " + (synack[0].CostUnit.Contains("GiB", StringComparison.Ordinal) ? "s" : "ms"), Costs(synack), Costs(reference), referenceName, higherIsBetter: false) with { Target = 1.0 },
    ];
    /// <summary>
    /// A sparse file (zeros, no disk) in a temporary directory both file servers serve: nginx from the
    /// kernel side, <c>synack serve --files</c> through the TUN device. nginx's worker is not root, so
    /// every directory on the way must let it walk and read.
    /// </summary>
    private sealed class ServedFile : IDisposable
    {
        public const string Name = "file";
        private readonly DirectoryInfo _dir;

        public ServedFile(long bytes)
        {
            _dir = System.IO.Directory.CreateTempSubdirectory("synack-bench-www-");
            var www = System.IO.Directory.CreateDirectory(Path.Combine(_dir.FullName, "www"));
            using (var file = File.Create(Path.Combine(www.FullName, Name))) file.SetLength(bytes);
            if (!OperatingSystem.IsWindows())
            {
                const UnixFileMode Walk = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                    | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
                File.SetUnixFileMode(_dir.FullName, Walk);
                File.SetUnixFileMode(www.FullName, Walk);
                File.SetUnixFileMode(Path.Combine(www.FullName, Name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        /// <summary>The directory holding the file.</summary>
        public string Directory => Path.Combine(_dir.FullName, "www");
        /// <summary>A directory of the bench's own for nginx's configuration, logs and temporary paths.</summary>
        public string Scratch => _dir.FullName;

        public void Dispose()
        {
            try
            {
                _dir.Delete(recursive: true);
            }
            catch (IOException)
            {
                // nginx may still hold its log open; the temporary directory goes with the machine's /tmp
            }
        }
    }

    /// <summary>nginx (all its paths in the bench's temporary directory) serving <paramref name="www"/>'s file from the kernel side, once it answers.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static NamespaceProcess StartNginx(NetworkNamespace ns, string curl, ServedFile www)
    {
        var dir = www.Scratch;
        var config = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(config, NginxConfig.Text(dir, $"{KernelAddress}:8088", www.Directory));
        var nginx = ns.Start(null, TimeSpan.Zero, "/usr/sbin/nginx", "-c", config);
        string url = $"http://{KernelAddress}:8088/{ServedFile.Name}";
        for (int i = 0; ; i++)
        {
            try
            {
                ns.Exec(curl, "-s", "-f", "-o", "/dev/null", "--max-time", "2", "-r", "0-0", url);
                return nginx;
            }
            catch (InvalidOperationException) when (i < 50)
            {
                Thread.Sleep(100); // nginx is starting (bounded: 5 s)
            }
        }
    }

    private static BenchRow Skipped(string what, string why) => new(Group, what, "", null, null, "") { Note = "skipped: " + why };

    private static string? Tool(string name) =>
        new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    // Five turns, not three: runs on this shared machine move by a fifth between turns, and the median
    // of three still moved by a tenth from one bench to the next.
    private static int Runs(bool quick) => quick ? 1 : 5;


    private const double GiB = 1L << 30;

    /// <summary>One curl transfer of <paramref name="bytes"/>: its speed, and CPU seconds per GiB for <paramref name="pid"/> and softirq.</summary>
    /// <param name="upload">A file to POST (the upload's speed is measured), or null to GET (the download's).</param>
    private static Turn Curl(NetworkNamespace ns, int pid, string curl, string url, long bytes, string? upload = null)
    {
        string[] args = upload is null
            ? [curl, "-s", "-f", "-o", "/dev/null", "--max-time", "120", "-w", "%{speed_download}", url]
            : [curl, "-s", "-f", "-o", "/dev/null", "--max-time", "120", "-H", "Expect:", "--data-binary", "@" + upload, "-w", "%{speed_upload}", url];
        var (text, cpu) = CpuMeter.Measure(pid, () => ns.Exec(args));
        double gbps = double.Parse(text.Trim(), CultureInfo.InvariantCulture) * 8 / 1e9;
        return new Turn(gbps, "Gbit/s", cpu / (bytes / GiB), "CPU per GiB");
    }

    private static Turn Wrk(NetworkNamespace ns, int pid, string[] args)
    {
        var (text, cpu) = CpuMeter.Measure(pid, () => ns.Exec(args));
        double rate = WrkRate(text);
        double done = Number(WrkRequests().Match(text), text);
        return new Turn(rate, "req/s", cpu * 1000 / (done / 1e4), "CPU per 10,000 requests");
    }

    private static Turn H2load(NetworkNamespace ns, int pid, string[] args)
    {
        var (text, cpu) = CpuMeter.Measure(pid, () => ns.Exec(args));
        double rate = H2loadRate(text);
        double done = Number(H2loadSucceeded().Match(text), text);
        return new Turn(rate, "req/s", cpu * 1000 / (done / 1e4), "CPU per 10,000 requests");
    }

    [GeneratedRegex(@"([0-9]+) requests in ")]
    private static partial Regex WrkRequests();

    [GeneratedRegex(@"requests: [0-9]+ total, [0-9]+ started, [0-9]+ done, ([0-9]+) succeeded")]
    private static partial Regex H2loadSucceeded();

    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex WrkRequestsPerSecond();

    [GeneratedRegex(@"finished in [0-9.]+m?s, ([0-9.]+) req/s")]
    private static partial Regex H2loadRequestsPerSecond();

    private static double WrkRate(string text)
    {
        if (text.Contains("Non-2xx", StringComparison.Ordinal) || text.Contains("Socket errors", StringComparison.Ordinal))
            throw new InvalidOperationException("wrk saw errors: " + text.Trim());
        return Number(WrkRequestsPerSecond().Match(text), text);
    }

    private static double H2loadRate(string text) => Number(H2loadRequestsPerSecond().Match(text), text);

    private static double Number(Match m, string text) =>
        m.Success ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : throw new InvalidOperationException("no rate in: " + text.Trim());
}
