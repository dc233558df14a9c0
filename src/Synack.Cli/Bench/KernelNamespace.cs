using System.Diagnostics;
using System.Globalization;

namespace Synack.Cli.Bench;

/// <summary>
/// The kernel's loopback at another MTU, in a network namespace the bench makes and deletes: this
/// program runs again inside it (<c>synack bench-kernel-bulk</c>) and prints its figure. Needs root.
/// Nothing leaves the namespace: it has only its own loopback.
/// </summary>
internal static class KernelNamespace
{
    /// <summary>Gbit/s of the kernel's bulk stream over a loopback of <paramref name="mtu"/>, or null and why not.</summary>
    public static double? BulkGbps(int mtu, long bytes, out string? why)
    {
        why = null;
        if (!OperatingSystem.IsLinux() || !Environment.IsPrivilegedProcess)
        {
            why = $"needs root: the kernel at MTU {mtu} runs in a network namespace of the bench's own";
            return null;
        }
        var ip = new[] { "/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip" }.FirstOrDefault(File.Exists);
        if (ip is null)
        {
            why = "needs iproute2's ip";
            return null;
        }
        if (!TrySelf(out var self, out why)) return null;
        string name = $"synack-bench-{Environment.ProcessId}";
        try
        {
            Run(ip, ["netns", "add", name]);
            Run(ip, ["-n", name, "link", "set", "lo", "mtu", mtu.ToString(CultureInfo.InvariantCulture), "up"]);
            var text = Run(ip, ["netns", "exec", name, .. self, "bench-kernel-bulk", "--bytes", bytes.ToString(CultureInfo.InvariantCulture)]);
            return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or System.ComponentModel.Win32Exception)
        {
            why = e.Message;
            return null;
        }
        finally
        {
            try
            {
                Run(ip, ["netns", "del", name]);
            }
            catch (InvalidOperationException)
            {
                // nothing was made
            }
        }
    }

    /// <summary>How to start this program again: the apphost, or dotnet with synack.dll.</summary>
    private static bool TrySelf(out string[] command, out string? why)
    {
        command = [];
        why = null;
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        if (entry?.GetName().Name != "synack" || Environment.ProcessPath is not { } process)
        {
            why = "runs only from the synack program (it starts itself again inside the namespace)";
            return false;
        }
        command = Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry.Location] : [process];
        return true;
    }

    private static string Run(string file, string[] args)
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
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({p.ExitCode}): {stderr.Result.Trim()}");
        return stdout.Result;
    }
}
