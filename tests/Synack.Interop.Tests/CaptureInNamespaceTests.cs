namespace Synack.Interop.Tests;

/// <summary>tcpdump in the namespace while the kernel talks to us; tshark judges the capture.</summary>
public class CaptureInNamespaceTests
{
    [SkippableFact]
    public void Tshark_sees_both_sides_options_good_checksums_and_complete_connections()
    {
        // Without offload: on the device, before the kernel, every checksum is the stack's own to get right.
        using var ns = NetworkNamespace.StartServe("--no-offload");
        NetworkNamespace.RequireTools("/usr/bin/tcpdump", "/usr/bin/tshark");
        var file = Path.Combine(Path.GetTempPath(), $"synack-ns-{Guid.NewGuid():N}.pcap");
        try
        {
            using var dump = ns.Background("tcpdump", "--immediate-mode", "-i", "syn0", "-U", "-w", file, "tcp");
            for (int i = 0; i < 50 && !File.Exists(file); i++) Thread.Sleep(100); // bounded: tcpdump opens the file when it starts
            Thread.Sleep(1000); // and attaches to the device a moment later
            ns.Exec("curl", "-sS", "-m", "60", "-o", "/dev/null", $"http://{NetworkNamespace.StackAddress}/bytes/2000000");
            var upload = file + ".body";
            File.WriteAllBytes(upload, new byte[300_000]);
            ns.Exec("curl", "-sS", "-m", "60", "--data-binary", "@" + upload, $"http://{NetworkNamespace.StackAddress}/sha256");
            File.Delete(upload);
            ns.Exec("sh", "-c", $"curl -sS -m 10 http://{NetworkNamespace.StackAddress}:81/ || true"); // refused: one RST
            // tcpdump hands packets over in blocks unless in immediate mode; give the last ones a moment.
            Thread.Sleep(1000);
            NetworkNamespace.Run("kill", "-INT", dump.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            dump.WaitForExit(10_000);

            var rows = NetworkNamespace.Run("tshark", "-r", file, "-n", "-o", "tcp.check_checksum:TRUE", "-T", "fields", "-E", "separator=/t",
                    "-e", "tcp.stream", "-e", "ip.src", "-e", "tcp.flags.syn", "-e", "tcp.options.mss_val", "-e", "tcp.options.wscale.shift",
                    "-e", "tcp.options.sack_perm", "-e", "tcp.options.timestamp.tsval", "-e", "tcp.checksum.status", "-e", "tcp.completeness", "-e", "tcp.dstport")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
            Assert.True(rows.Length > 100, $"{rows.Length} packets captured");
            // Both sides' SYNs carry MSS, window scale, SACK-permitted and timestamps.
            foreach (var side in new[] { NetworkNamespace.KernelAddress, NetworkNamespace.StackAddress })
            {
                var syn = rows.First(r => r[1] == side && r[2] == "1" && r[9] != "81" && r[1] + r[9] != NetworkNamespace.StackAddress + "81");
                Assert.NotEqual("", syn[3]);
                Assert.NotEqual("", syn[4]);
                Assert.NotEqual("", syn[5]);
                Assert.NotEqual("", syn[6]);
            }
            Assert.DoesNotContain(rows, r => r[7] == "0"); // 0 is "bad" in tcp.checksum.status
            // Each connection's completeness: 31 (SYN, SYN-ACK, ACK, data, FIN) or 63 (and RST); the refused one is SYN+RST.
            var byStream = rows.GroupBy(r => r[0]).Select(g => g.Last()[8]).ToArray();
            Assert.True(byStream.Length == 3, "streams: " + string.Join(" | ", rows.GroupBy(r => r[0]).Select(g => $"{g.Key}: {g.Count()} packets, dst ports {string.Join(",", g.Select(r => r[9]).Distinct())}, completeness {g.Last()[8]}")));
            Assert.Equal(2, byStream.Count(c => c is "31" or "63"));
            Assert.Single(byStream, c => c is not ("31" or "63")); // the refused connect
        }
        finally
        {
            if (File.Exists(file)) File.Delete(file);
        }
    }
}
