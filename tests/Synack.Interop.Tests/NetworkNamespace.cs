using System.Diagnostics;
using Namespace = Synack.Tun.NetworkNamespace;

namespace Synack.Interop.Tests;

/// <summary>
/// The interop tests' view of <see cref="Namespace"/> (the one harness the bench uses too): a
/// namespace of the test's own, optionally with `synack serve` on a TUN device inside it — the kernel
/// side 192.0.2.1, the stack 192.0.2.2, documentation addresses reachable only in the namespace.
/// Everything is torn down on dispose, whatever the test did. Needs root and /dev/net/tun: when
/// CI=true a missing one fails the test, elsewhere it skips it and says why.
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    public const string KernelAddress = "192.0.2.1";
    public const string StackAddress = "192.0.2.2";
    private readonly Namespace _ns;
    private Synack.Tun.NamespaceProcess? _serve;

    private NetworkNamespace(Namespace ns) => _ns = ns;

    public string Name => _ns.Name;
    /// <summary>What `synack serve` printed so far (standard error's lines marked "stderr: ").</summary>
    public IReadOnlyList<string> ServeOutput => _serve?.Output ?? [];
    /// <summary>The process id of `synack serve` (ip netns exec becomes it), to read its memory from /proc.</summary>
    public int ServePid => _serve?.Id ?? throw new InvalidOperationException("synack serve is not running");

    /// <summary>Stops `synack serve` (SIGTERM, as a person's Ctrl-C) and waits for its summary (bounded: 15 s).</summary>
    public void StopServe() => _serve?.Stop(TimeSpan.FromSeconds(15));

    public static NetworkNamespace StartServe(params string[] extra)
    {
        var ns = Create();
        try
        {
            ns._serve = ns._ns.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30),
                ["dotnet", SynackDll, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", .. extra]);
            return ns;
        }
        catch
        {
            ns.Dispose();
            throw;
        }
    }

    /// <summary>Programs a test needs: under CI=true their absence fails the test, elsewhere it skips with the reason.</summary>
    public static void RequireTools(params string[] paths)
    {
        foreach (var tool in paths)
        {
            if (File.Exists(tool)) continue;
            if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException($"{tool} is needed");
            Skip.If(true, $"{tool} is not installed");
        }
    }

    /// <summary>
    /// Stops a tcpdump started by <see cref="BackgroundUntil"/> once its file has not grown for a second
    /// (bounded: 10 s). A shorter quiet spell was not enough on a loaded machine: tcpdump, starved of the
    /// CPU for 200 ms, was stopped with the kernel still holding most of a transfer for it.
    /// </summary>
    public static void StopCapture(Process dump, string file)
    {
        long last = -1;
        int quiet = 0;
        for (int i = 0; i < 50 && quiet < 5; i++)
        {
            Thread.Sleep(200);
            long size = File.Exists(file) ? new FileInfo(file).Length : 0;
            quiet = size == last && size > 0 ? quiet + 1 : 0;
            last = size;
        }
        Run("kill", "-INT", dump.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        dump.WaitForExit(10_000);
    }

    /// <summary>A config for nginx-light with every path under <paramref name="dir"/> (no root-owned state), serving <paramref name="dir"/>/www.</summary>
    public static string NginxConfig(string dir, string listen) => global::Synack.KernelBench.NginxConfig.Text(dir, listen, dir + "/www");

    /// <summary>An empty namespace (loopback up), for a test that runs its own commands in it.</summary>
    public static NetworkNamespace Create()
    {
        Require();
        return new NetworkNamespace(Namespace.Create("synack-t"));
    }

    /// <summary>Runs a synack command inside the namespace to its end; returns what it printed.</summary>
    public string Synack(params string[] args) => Exec(["dotnet", SynackDll, .. args]);

    /// <summary>Starts a program inside the namespace in the background; it is killed with the namespace.</summary>
    public Process Background(params string[] args) => BackgroundUntil(null, args);

    /// <summary>Starts a program in the background and returns once it has printed <paramref name="readyLine"/> (bounded: 15 s).</summary>
    public Process BackgroundUntil(string? readyLine, params string[] args) =>
        _ns.Start(readyLine is null ? null : l => l.Contains(readyLine, StringComparison.Ordinal), TimeSpan.FromSeconds(15), args).Process;

    /// <summary>Runs a program inside the namespace and returns its standard output.</summary>
    public string Exec(params string[] args) => _ns.Exec(TimeSpan.FromSeconds(300), args);

    /// <summary>Runs a program inside the namespace until it succeeds, for a server still starting (bounded: 30 tries, 100 ms apart).</summary>
    public string ExecUntilItWorks(params string[] args)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                return Exec(args);
            }
            catch (InvalidOperationException) when (attempt < 29)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>Runs a program (outside the namespace) and returns its standard output; a failure throws.</summary>
    public static string Run(string program, params string[] args) =>
        global::Synack.Tests.Shared.ExternalTool.Run(TimeSpan.FromSeconds(300), program, args);

    private static string SynackDll
    {
        get
        {
            // The CLI's own output folder (it carries synack.runtimeconfig.json), beside this test's configuration.
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            string configuration = dir.Parent?.Name ?? "Debug"; // .../bin/<Configuration>/net10.0/
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
            if (dir is null) throw new InvalidOperationException("Synack.sln not found");
            var dll = Path.Combine(dir.FullName, "src", "Synack.Cli", "bin", configuration, "net10.0", "synack.dll");
            if (!File.Exists(dll)) throw new InvalidOperationException($"{dll} is missing: build the solution first");
            return dll;
        }
    }

    private static void Require()
    {
        string? why = Namespace.WhyNot(tun: true);
        if (why is null && !Which("curl")) why = "curl is not installed";
        if (why is null) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException($"interop tests must run on CI, but {why}");
        Skip.If(true, why);
    }

    private static bool Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(d => File.Exists(Path.Combine(d, name)));

    public void Dispose() => _ns.Dispose();
}
