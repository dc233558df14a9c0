using System.Diagnostics;
using System.Globalization;

namespace Synack.Tun;

/// <summary>
/// A network namespace made for one run and deleted on dispose, with every program started in it:
/// the bench, <c>synack serve</c>'s tests and the interop tests all use this one. Inside it only its
/// own loopback and the TUN devices the run makes, with documentation addresses: nothing leaves it.
/// Needs Linux, root and iproute2 (and /dev/net/tun for a TUN device).
/// </summary>
public sealed class NetworkNamespace : IDisposable
{
    private static int _counter;
    private readonly string _ip;
    private readonly List<NamespaceProcess> _started = [];

    private NetworkNamespace(string ip, string name)
    {
        _ip = ip;
        Name = name;
    }

    /// <summary>The namespace's name (<c>ip netns</c>'s).</summary>
    public string Name { get; }

    /// <summary>Why a namespace (with a TUN device, when <paramref name="tun"/>) cannot be made here, or null when it can.</summary>
    public static string? WhyNot(bool tun)
    {
        if (!OperatingSystem.IsLinux()) return "network namespaces need Linux";
        if (!Environment.IsPrivilegedProcess) return "needs root (to make a network namespace of its own)";
        if (IpPath is null) return "needs iproute2's ip";
        if (tun && !File.Exists("/dev/net/tun")) return "needs /dev/net/tun";
        return null;
    }

    private static string? IpPath => new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists);

    /// <summary>A new namespace named <paramref name="prefix"/>-PID-N, its loopback up.</summary>
    public static NetworkNamespace Create(string prefix = "synack")
    {
        var ns = new NetworkNamespace(IpPath ?? throw new InvalidOperationException("needs iproute2's ip"),
            $"{prefix}-{Environment.ProcessId}-{Interlocked.Increment(ref _counter)}");
        Run(ns._ip, TimeSpan.FromMinutes(1), "netns", "add", ns.Name);
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

    /// <summary>Runs a program inside to its end (bounded: 5 minutes) and returns its standard output; a failure throws.</summary>
    public string Exec(params string[] args) => Exec(TimeSpan.FromMinutes(5), args);

    /// <summary>Runs a program inside to its end (bounded by <paramref name="limit"/>) and returns its standard output.</summary>
    public string Exec(TimeSpan limit, params string[] args) => Run(_ip, limit, ["netns", "exec", Name, .. args]);

    /// <summary>
    /// Starts a program inside and returns once a line of its output satisfies <paramref name="ready"/>
    /// (bounded by <paramref name="readyLimit"/>), or at once when it is null. It stops with the namespace.
    /// </summary>
    public NamespaceProcess Start(Func<string, bool>? ready, TimeSpan readyLimit, params string[] args)
    {
        var psi = new ProcessStartInfo(_ip) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "netns", "exec", Name }.Concat(args)) psi.ArgumentList.Add(a);
        var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {args[0]}");
        var started = new NamespaceProcess(p, ready);
        _started.Add(started);
        if (ready is not null && !started.Ready.Wait(readyLimit))
            throw new InvalidOperationException($"{args[0]} did not get ready within {readyLimit.TotalSeconds:F0} s: {string.Join(" / ", started.Output)}");
        return started;
    }

    /// <summary>Runs a program outside any namespace to its end (bounded by <paramref name="limit"/>); a failure throws with what it said.</summary>
    public static string Run(string file, TimeSpan limit, params string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var p = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} did not finish in {limit.TotalSeconds:F0} s");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{Path.GetFileName(file)} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }

    /// <summary>Stops what was started (SIGTERM, then SIGKILL after 10 s), kills whatever is left inside, and deletes the namespace.</summary>
    public void Dispose()
    {
        foreach (var p in _started) p.Stop(TimeSpan.FromSeconds(10));
        foreach (var p in _started) p.Dispose();
        try
        {
            // Anything still inside (nginx's workers, say) goes with the namespace's processes.
            foreach (var pid in Run(_ip, TimeSpan.FromMinutes(1), "netns", "pids", Name).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                Run("/bin/kill", TimeSpan.FromMinutes(1), "-KILL", pid.Trim());
        }
        catch (InvalidOperationException)
        {
        }
        try
        {
            Run(_ip, TimeSpan.FromMinutes(1), "netns", "del", Name);
        }
        catch (InvalidOperationException)
        {
        }
    }
}

/// <summary>A program running in a <see cref="NetworkNamespace"/>: its output lines as they come, and a way to stop it.</summary>
public sealed class NamespaceProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _output = [];
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal NamespaceProcess(Process process, Func<string, bool>? ready)
    {
        _process = process;
        void Line(string? l, string prefix)
        {
            if (l is null) return;
            lock (_output) _output.Add(prefix + l);
            if (ready is not null && ready(l)) _ready.TrySetResult();
        }
        process.OutputDataReceived += (_, e) => Line(e.Data, "");
        process.ErrorDataReceived += (_, e) => Line(e.Data, "stderr: ");
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    internal Task Ready => _ready.Task;

    /// <summary>The process (<c>ip netns exec</c> becomes the program): its id reads its memory from /proc.</summary>
    public Process Process => _process;
    /// <summary>The process id.</summary>
    public int Id => _process.Id;
    /// <summary>True once the process has ended.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>What it printed so far, standard error's lines marked "stderr: ".</summary>
    public IReadOnlyList<string> Output
    {
        get
        {
            lock (_output) return [.. _output];
        }
    }

    /// <summary>Waits for it to end by itself (bounded).</summary>
    public bool WaitForExit(TimeSpan limit) => _process.WaitForExit(limit);

    /// <summary>SIGTERM, as a person's Ctrl-C, then SIGKILL if it has not ended within <paramref name="limit"/>; then its last output.</summary>
    public void Stop(TimeSpan limit)
    {
        try
        {
            if (_process.HasExited) return;
            NetworkNamespace.Run("/bin/kill", TimeSpan.FromMinutes(1), "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture));
            if (!_process.WaitForExit(limit)) _process.Kill(entireProcessTree: true);
            _process.WaitForExit(); // the output's last lines
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // already gone
        }
    }

    /// <summary>Releases the process handle (it does not stop the process).</summary>
    public void Dispose() => _process.Dispose();
}
