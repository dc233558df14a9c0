using Synack.Simulation;
using Synack.Stack;
using Synack.Tun;

namespace Synack.Interop.Tests;

/// <summary>
/// Two kernels, each in a namespace of its own, joined by our wire at 2 % loss each way: curl in one
/// downloads from nginx in the other while tcpdump captures both ends. The receiver's capture shows
/// the gaps (lost segments, duplicate ACKs with SACK, data out of order), the sender's the
/// retransmissions; on both our analyzer and tshark agree packet by packet.
/// </summary>
public class LossyWireAnalysisTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [SkippableTheory]
    [InlineData(0.02, 0.0, 0.0, 2)]
    [InlineData(0.01, 0.02, 0.01, 3)] // and packets overtaken, and packets twice
    public void Analyzer_agrees_with_tshark_on_kernel_captures_over_a_lossy_wire(double loss, double reordering, double duplication, int seed)
    {
        using var client = NetworkNamespace.Create();
        using var server = NetworkNamespace.Create();
        NetworkNamespace.RequireTools("/usr/sbin/nginx", "/usr/bin/tcpdump", "/usr/bin/tshark");
        var dir = Path.Combine(Path.GetTempPath(), $"synack-wire-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "www"));
        var clientFile = Path.Combine(dir, "client.pcap");
        var serverFile = Path.Combine(dir, "server.pcap");
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "www", "blob"), new byte[2_000_000]);
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), NetworkNamespace.NginxConfig(dir, "192.0.2.2:8080"));
            using var wire = TunWire.Open(client.Name, "wa", "192.0.2.1/24", server.Name, "wb", "192.0.2.2/24",
                new LinkConditions { Loss = loss, Reordering = reordering, Duplication = duplication, Latency = TimeSpan.FromMilliseconds(5), Seed = seed });
            using var clientDump = client.BackgroundUntil("listening on", "tcpdump", "--immediate-mode", "-i", "wa", "-U", "-s", "200", "-w", clientFile, "tcp");
            using var serverDump = server.BackgroundUntil("listening on", "tcpdump", "--immediate-mode", "-i", "wb", "-U", "-s", "200", "-w", serverFile, "tcp");
            using var nginx = server.Background("/usr/sbin/nginx", "-p", dir, "-c", Path.Combine(dir, "nginx.conf"));
            client.ExecUntilItWorks("curl", "-sS", "-m", "30", "-o", "/dev/null", "http://192.0.2.2:8080/blob"); // nginx may still be starting
            client.Exec("curl", "-sS", "-m", "30", "-o", "/dev/null", "http://192.0.2.2:8080/blob", "http://192.0.2.2:8080/blob");
            NetworkNamespace.StopCapture(clientDump, clientFile);
            NetworkNamespace.StopCapture(serverDump, serverFile);
            nginx.Kill(entireProcessTree: true);
            Assert.True(wire.Backward.Lost + wire.Forward.Lost > 10, $"the wire lost too little to test with: {wire.Forward}; {wire.Backward}");

            output.WriteLine($"wire: client to server {wire.Forward}; server to client {wire.Backward}");
            foreach (var file in new[] { clientFile, serverFile })
            {
                int n = Synack.Tests.Shared.TsharkCompare.Compare("/usr/bin/tshark", file, (p, a) => NetworkNamespace.Run(p, a));
                Assert.True(n > 1000, $"{file}: {n} packets");
                output.WriteLine($"{Path.GetFileName(file)}: {n} packets agree with tshark; findings {string.Join(", ", Synack.Analysis.CaptureAnalyzer.Analyze(Synack.Wire.CaptureReader.Read(file)).SelectMany(c => c.Packets).SelectMany(p => p.Findings).GroupBy(f => f).Select(g => $"{g.Key} {g.Count()}"))}");
            }
            // The captures show what loss looks like from each end, or the comparison above proved little.
            var atClient = Findings(clientFile);
            Assert.Contains("lost_segment", atClient);
            Assert.Contains("duplicate_ack", atClient);
            var atServer = Findings(serverFile);
            Assert.True(atServer.Contains("retransmission") || atServer.Contains("fast_retransmission"), string.Join(",", atServer));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static HashSet<string> Findings(string file) =>
        Synack.Analysis.CaptureAnalyzer.Analyze(Synack.Wire.CaptureReader.Read(file)).SelectMany(c => c.Packets).SelectMany(p => p.Findings).ToHashSet();
}
