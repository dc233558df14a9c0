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

    [GeneratedRegex(@"finished in [0-9.]+m?s, ([0-9.]+) req/s")]
    private static partial Regex H2loadRate();

    [GeneratedRegex(@"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored")]
    private static partial Regex H2loadRequests();

    [SkippableFact]
    public void Kestrel_over_synack_beside_kestrel_over_the_kernel_under_h2load()
    {
        NetworkNamespace.RequireTools("/usr/bin/h2load");
        using var ns = NetworkNamespace.StartServe("--kernel-http", "8081");
        (double Rate, long Succeeded, string Text) H2load(string url)
        {
            // Bounded: 20,000 requests over 8 HTTP/2 connections, 16 streams each, cleartext with prior knowledge.
            var text = ns.Exec("h2load", "-n", "20000", "-c", "8", "-m", "16", "-T", "10", url);
            var requests = H2loadRequests().Match(text);
            Assert.True(requests.Success, text);
            Assert.Equal("0", requests.Groups[4].Value);
            Assert.Equal("0", requests.Groups[5].Value);
            return (double.Parse(H2loadRate().Match(text).Groups[1].Value, CultureInfo.InvariantCulture),
                long.Parse(requests.Groups[3].Value, CultureInfo.InvariantCulture), text);
        }
        var synack = H2load($"http://{NetworkNamespace.StackAddress}:8080/bytes/100");
        var kernel = H2load($"http://{NetworkNamespace.KernelAddress}:8082/bytes/100");
        output.WriteLine($"HTTP/2 (h2c), Kestrel over Synack (TUN): {synack.Rate:F0} requests/s");
        output.WriteLine($"HTTP/2 (h2c), Kestrel over the kernel:   {kernel.Rate:F0} requests/s");
        output.WriteLine($"ratio: {synack.Rate / kernel.Rate:F2}");
        Assert.Equal(20000, synack.Succeeded);
        Assert.Equal(20000, kernel.Succeeded);
    }
}
