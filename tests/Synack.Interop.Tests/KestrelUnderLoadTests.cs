using System.Globalization;
using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Synack.Interop.Tests;

/// <summary>
/// One `synack serve` process with the same ASP.NET Core app on two transports: Kestrel over Synack
/// (192.0.2.2, through the TUN device) and Kestrel over the kernel's sockets (192.0.2.1, the namespace's
/// own address), both loaded by wrk in the same run. Requests per second are reported, not asserted:
/// this machine is shared and noisy; what is asserted is that every request was answered.
/// </summary>
public partial class KestrelUnderLoadTests(ITestOutputHelper output)
{
    [GeneratedRegex(@"Requests/sec:\s+([0-9.]+)")]
    private static partial Regex RequestsPerSecond();

    [GeneratedRegex(@"(\d+) requests in")]
    private static partial Regex Requests();

    [SkippableFact]
    public void Kestrel_over_synack_beside_kestrel_over_the_kernel_under_wrk()
    {
        NetworkNamespace.RequireTools("/usr/bin/wrk");
        using var ns = NetworkNamespace.StartServe("--kernel-http", "8081");
        (double Rate, long Count, string Text) Wrk(string url)
        {
            // Bounded: 3 s of load from 16 connections on one wrk thread.
            var text = ns.Exec("wrk", "-t1", "-c16", "-d3s", "--timeout", "5s", url);
            Assert.DoesNotContain("Non-2xx", text);
            Assert.DoesNotContain("Socket errors", text);
            return (double.Parse(RequestsPerSecond().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
                long.Parse(Requests().Match(text).Groups[1].Value, CultureInfo.InvariantCulture), text);
        }
        var synack = Wrk($"http://{NetworkNamespace.StackAddress}/bytes/100");
        var kernel = Wrk($"http://{NetworkNamespace.KernelAddress}:8081/bytes/100");
        output.WriteLine($"Kestrel over Synack (TUN): {synack.Rate:F0} requests/s ({synack.Count} in 3 s)");
        output.WriteLine($"Kestrel over the kernel:   {kernel.Rate:F0} requests/s ({kernel.Count} in 3 s)");
        output.WriteLine($"ratio: {synack.Rate / kernel.Rate:F2}");
        Assert.True(synack.Count > 0 && kernel.Count > 0, synack.Text + kernel.Text);
    }
}
