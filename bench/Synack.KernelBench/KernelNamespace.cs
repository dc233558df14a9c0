using System.Globalization;
using Synack.Tun;

namespace Synack.KernelBench;

/// <summary>
/// The kernel's loopback at another MTU, in a network namespace of the bench's own: this program runs
/// again inside it (<c>synack bench-kernel-bulk</c>) and prints its figure.
/// </summary>
internal static class KernelNamespace
{
    /// <summary>Gbit/s of the kernel's bulk stream over a loopback of <paramref name="mtu"/>, or null and why not.</summary>
    public static double? BulkGbps(int mtu, long bytes, out string? why)
    {
        why = NetworkNamespace.WhyNot(tun: false);
        if (why is not null)
        {
            why = $"the kernel at MTU {mtu}: {why}";
            return null;
        }
        if (SynackProgram.Self() is not { } self)
        {
            why = "runs only from the synack program (it starts itself again inside the namespace)";
            return null;
        }
        try
        {
            using var ns = NetworkNamespace.Create("synack-bench");
            ns.Exec("ip", "link", "set", "lo", "mtu", mtu.ToString(CultureInfo.InvariantCulture));
            var text = ns.Exec([.. self, "bench-kernel-bulk", "--bytes", bytes.ToString(CultureInfo.InvariantCulture)]);
            return double.Parse(text.Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or System.ComponentModel.Win32Exception)
        {
            why = e.Message;
            return null;
        }
    }
}
