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
        using var www = new ServedFile(bytes);
        using var ns = NetworkNamespace.Create("synack-bench");
        progress("tun: synack serve in a namespace of its own");
        ns.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), [.. self, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", "--kernel-http", "8081", "--files", www.Directory]);

        if (Tool("curl") is { } curl)
        {
            progress($"tun: curl downloads {bytes >> 20} MiB from each, {Runs(quick)} times after a warm-up");
            double s = CurlGbps(ns, curl, $"http://{StackAddress}/bytes/{bytes}", quick);
            double k = CurlGbps(ns, curl, $"http://{KernelAddress}:8081/bytes/{bytes}", quick);
            rows.Add(new BenchRow(Group, $"curl download {bytes >> 20} MiB", "Gbit/s", s, k, "Kestrel on the kernel's sockets") { Target = 0.8 });
            progress($"tun: curl uploads {bytes >> 20} MiB to each (POST /sha256)");
            var upload = Path.Combine(Path.GetTempPath(), $"synack-bench-upload-{Environment.ProcessId}");
            try
            {
                using (var f = File.Create(upload)) f.SetLength(bytes); // sparse: zeros, no disk
                double su = CurlGbps(ns, curl, $"http://{StackAddress}/sha256", quick, upload);
                double ku = CurlGbps(ns, curl, $"http://{KernelAddress}:8081/sha256", quick, upload);
                rows.Add(new BenchRow(Group, $"curl upload {bytes >> 20} MiB (POST /sha256)", "Gbit/s", su, ku, "Kestrel on the kernel's sockets"));
            }
            finally
            {
                File.Delete(upload);
            }
            if (OperatingSystem.IsLinux() && File.Exists("/usr/sbin/nginx"))
            {
                progress($"tun: curl downloads {bytes >> 20} MiB from nginx on the kernel side");
                try
                {
                    double n = NginxGbps(ns, curl, www, quick);
                    double f = CurlGbps(ns, curl, $"http://{StackAddress}:8000/{ServedFile.Name}", quick);
                    rows.Add(new BenchRow(Group, $"curl download {bytes >> 20} MiB file, Synack's file server (sendfile) against nginx", "Gbit/s", f, n, "nginx on the kernel (sendfile)") { Target = 0.8 });
                    rows.Add(new BenchRow(Group, $"curl download {bytes >> 20} MiB, Kestrel over Synack against nginx", "Gbit/s", s, n, "nginx on the kernel (sendfile)"));
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
        string requests = quick ? "2000" : "20000";
        double? wrkOneShard = null, h2OneShard = null;
        if (Tool("wrk") is { } wrk)
        {
            progress("tun: wrk, 16 connections, GET /bytes/100");
            double s = WrkRate(ns.Exec(wrk, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{StackAddress}/bytes/100"));
            double k = WrkRate(ns.Exec(wrk, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{KernelAddress}:8081/bytes/100"));
            rows.Add(new BenchRow(Group, "Kestrel, HTTP/1.1 (wrk -c16)", "req/s", s, k, "Kestrel on the kernel's sockets"));
            wrkOneShard = s;
        }
        else rows.Add(Skipped("wrk", "wrk is not installed"));

        if (Tool("h2load") is { } h2load)
        {
            progress("tun: h2load, 8 connections × 16 streams, GET /bytes/100");
            double s = H2loadRate(ns.Exec(h2load, "-n", requests, "-c", "8", "-m", "16", "-T", "10", $"http://{StackAddress}:8080/bytes/100"));
            double k = H2loadRate(ns.Exec(h2load, "-n", requests, "-c", "8", "-m", "16", "-T", "10", $"http://{KernelAddress}:8082/bytes/100"));
            rows.Add(new BenchRow(Group, "Kestrel, HTTP/2 cleartext (h2load -c8 -m16)", "req/s", s, k, "Kestrel on the kernel's sockets"));
            h2OneShard = s;
        }
        else rows.Add(Skipped("h2load", "h2load (nghttp2-client) is not installed"));

        // The same server on a two-queue device, a stack shard on each queue, in a namespace of its own.
        if (wrkOneShard is not null || h2OneShard is not null)
        {
            using var sharded = NetworkNamespace.Create("synack-bench");
            progress("tun: synack serve --shards 2 (a multi-queue device) in another namespace");
            sharded.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), [.. self, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", "--shards", "2"]);
            if (wrkOneShard is double w && Tool("wrk") is { } wrk2)
            {
                sharded.Exec(wrk2, "-t1", "-c16", "-d1s", "--timeout", "5s", $"http://{StackAddress}/bytes/100"); // warm-up: a fresh process
                double s = WrkRate(sharded.Exec(wrk2, "-t1", "-c16", "-d" + duration, "--timeout", "5s", $"http://{StackAddress}/bytes/100"));
                rows.Add(new BenchRow(Group, "Kestrel, HTTP/1.1 (wrk -c16), 2 shards", "req/s", s, w, "Synack, 1 shard"));
            }
            if (h2OneShard is double h && Tool("h2load") is { } h2load2)
            {
                double s = H2loadRate(sharded.Exec(h2load2, "-n", requests, "-c", "8", "-m", "16", "-T", "10", $"http://{StackAddress}:8080/bytes/100"));
                rows.Add(new BenchRow(Group, "Kestrel, HTTP/2 cleartext (h2load -c8 -m16), 2 shards", "req/s", s, h, "Synack, 1 shard"));
            }
        }
        return rows;
    }

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

    /// <summary>nginx (all its paths in the bench's temporary directory) serving <paramref name="www"/>'s file from the kernel side.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private static double NginxGbps(NetworkNamespace ns, string curl, ServedFile www, bool quick)
    {
        var dir = www.Scratch;
        var config = Path.Combine(dir, "nginx.conf");
        File.WriteAllText(config, NginxConfig.Text(dir, $"{KernelAddress}:8088", www.Directory));
        ns.Start(null, TimeSpan.Zero, "/usr/sbin/nginx", "-c", config);
        string url = $"http://{KernelAddress}:8088/{ServedFile.Name}";
        for (int i = 0; ; i++)
        {
            try
            {
                ns.Exec(curl, "-s", "-f", "-o", "/dev/null", "--max-time", "2", "-r", "0-0", url);
                break;
            }
            catch (InvalidOperationException) when (i < 50)
            {
                Thread.Sleep(100); // nginx is starting (bounded: 5 s)
            }
        }
        return CurlGbps(ns, curl, url, quick);
    }

    private static BenchRow Skipped(string what, string why) => new(Group, what, "", null, null, "") { Note = "skipped: " + why };

    private static string? Tool(string name) =>
        new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    private static int Runs(bool quick) => quick ? 1 : 3;

    /// <summary>
    /// The median of a few downloads, after one that is not counted: the first request to a .NET server
    /// runs its code before the tiered JIT has optimized it (and both servers share one process, so
    /// whichever went first would pay for the other).
    /// </summary>
    /// <param name="upload">A file to POST (the upload's speed is measured), or null to GET (the download's).</param>
    private static double CurlGbps(NetworkNamespace ns, string curl, string url, bool quick, string? upload = null)
    {
        string[] args = upload is null
            ? [curl, "-s", "-f", "-o", "/dev/null", "--max-time", "120", "-w", "%{speed_download}", url]
            : [curl, "-s", "-f", "-o", "/dev/null", "--max-time", "120", "-H", "Expect:", "--data-binary", "@" + upload, "-w", "%{speed_upload}", url];
        double Once() => double.Parse(ns.Exec(args).Trim(), CultureInfo.InvariantCulture) * 8 / 1e9;
        Once();
        var runs = Enumerable.Range(0, Runs(quick)).Select(_ => Once()).Order().ToArray();
        return runs[runs.Length / 2];
    }

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
