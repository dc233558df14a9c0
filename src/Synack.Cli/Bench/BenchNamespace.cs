using System.Diagnostics;

namespace Synack.Cli.Bench;

/// <summary>
/// A network namespace the bench makes for itself and deletes on dispose (with whatever it started in
/// it). Only its own loopback and the TUN device synack serve makes inside it, with documentation
/// addresses: nothing leaves it. Needs root, iproute2, and for TUN /dev/net/tun.
/// </summary>
internal sealed class BenchNamespace : IDisposable
{
    private static int _counter;
    private readonly string _ip;
    private readonly List<Process> _background = [];

    private BenchNamespace(string ip, string name)
    {
        _ip = ip;
        Name = name;
    }

    public string Name { get; }

    /// <summary>Why a namespace cannot be made here, or null.</summary>
    public static string? WhyNot(bool tun)
    {
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess) return "needs root (a network namespace of the bench's own)";
        if (IpPath is null) return "needs iproute2's ip";
        if (tun && !File.Exists("/dev/net/tun")) return "needs /dev/net/tun";
        return null;
    }

    private static string? IpPath => new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists);

    public static BenchNamespace Create()
    {
        var ns = new BenchNamespace(IpPath ?? throw new InvalidOperationException("needs iproute2's ip"),
            $"synack-bench-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}");
        Run(ns._ip, ["netns", "add", ns.Name]);
        try
        {
            ns.Exec("ip", "link", "set", "lo", "up");
        }
        catch
        {
            ns.Dispose();
            throw;
        }
        return ns;
    }

    /// <summary>Runs a program inside to its end (bounded: 5 minutes); its standard output.</summary>
    public string Exec(params string[] args) => Run(_ip, ["netns", "exec", Name, .. args]);

    /// <summary>
    /// Starts a program inside and returns once a line of its output starts with <paramref name="ready"/>
    /// (bounded: 30 s), or at once when <paramref name="ready"/> is null. It is stopped with the namespace.
    /// </summary>
    public void Start(string? ready, params string[] args)
    {
        var psi = new ProcessStartInfo(_ip) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", Name }.Concat(args)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {args[0]}");
        _background.Add(p);
        var seen = new TaskCompletionSource();
        var lines = new List<string>();
        void Line(string? l)
        {
            if (l is null) return;
            lock (lines) lines.Add(l);
            if (ready is not null && l.StartsWith(ready, StringComparison.Ordinal)) seen.TrySetResult();
        }
        p.OutputDataReceived += (_, e) => Line(e.Data);
        p.ErrorDataReceived += (_, e) => Line(e.Data);
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (ready is not null && !seen.Task.Wait(TimeSpan.FromSeconds(30)))
            throw new InvalidOperationException($"{args[0]} did not get ready: {string.Join(" / ", lines)}");
    }

    /// <summary>This program again (the apphost, or dotnet with synack.dll), or null when the bench runs inside another host.</summary>
    public static string[]? Self()
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        if (entry?.GetName().Name != "synack" || Environment.ProcessPath is not { } process) return null;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry.Location] : [process];
    }

    public static string Run(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} did not finish in 5 minutes");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }

    public void Dispose()
    {
        foreach (var p in _background)
        {
            try
            {
                if (!p.HasExited)
                {
                    Run("/bin/kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
                    if (!p.WaitForExit(10_000)) p.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // already gone
            }
            p.Dispose();
        }
        try
        {
            // Anything still inside (nginx's workers, say) goes with the namespace's processes.
            Run(_ip, ["netns", "pids", Name]).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList()
                .ForEach(pid => Run("/bin/kill", ["-KILL", pid.Trim()]));
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Run(_ip, ["netns", "del", Name]);
        }
        catch (InvalidOperationException)
        {
        }
    }
}
