namespace Synack.Interop.Tests;

/// <summary>ECN against the Linux kernel: it asks (tcp_ecn=1 in the test's own namespace), we agree, and both mark.</summary>
public class EcnWithKernelTests
{
    [SkippableFact]
    public void A_kernel_that_asks_for_ecn_gets_it_and_our_data_goes_out_ect0()
    {
        using var ns = NetworkNamespace.StartServe();
        NetworkNamespace.RequireTools("/usr/bin/tcpdump", "/usr/bin/tshark");
        ns.Exec("sysctl", "-q", "-w", "net.ipv4.tcp_ecn=1"); // this namespace only
        var file = Path.Combine(Path.GetTempPath(), $"synack-ecn-{Guid.NewGuid():N}.pcap");
        try
        {
            using var dump = ns.BackgroundUntil("listening on", "tcpdump", "--immediate-mode", "-i", "syn0", "-U", "-w", file, "tcp");
            ns.Exec("curl", "-sS", "-m", "60", "-o", "/dev/null", $"http://{NetworkNamespace.StackAddress}/bytes/300000");
            NetworkNamespace.StopCapture(dump, file);
            var rows = NetworkNamespace.Run("tshark", "-r", file, "-n", "-T", "fields", "-E", "separator=/t",
                    "-e", "ip.src", "-e", "tcp.flags.syn", "-e", "tcp.flags.ack", "-e", "tcp.flags.ece", "-e", "tcp.flags.cwr", "-e", "ip.dsfield.ecn", "-e", "tcp.len")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
            var kernelSyn = rows.First(r => r[0] == NetworkNamespace.KernelAddress && r[1] == "1");
            Assert.Equal(("1", "1"), (kernelSyn[3], kernelSyn[4]));            // ECN-setup SYN: ECE and CWR
            var ourSynAck = rows.First(r => r[0] == NetworkNamespace.StackAddress && r[1] == "1");
            Assert.Equal(("1", "0"), (ourSynAck[3], ourSynAck[4]));            // ECN-setup SYN-ACK: ECE only
            var ourData = rows.Where(r => r[0] == NetworkNamespace.StackAddress && r[6] != "0").ToArray();
            // With segmentation offload a packet here may be a GSO packet of many segments: count bytes.
            long ourBytes = ourData.Sum(r => long.Parse(r[6], System.Globalization.CultureInfo.InvariantCulture));
            // Enough to judge the marks: under load tcpdump's buffer drops packets (78,537 bytes of the
            // 300,000 were seen once on CI), so ask for some dozens of segments' worth, not for them all.
            Assert.True(ourBytes >= 30_000 && ourData.Length >= 5, $"{ourBytes} bytes of data in {ourData.Length} packets");
            // Segmentation offload was used: some of our packets are larger than the device's MTU; the kernel cut them (and kept ECT(0) on every cut).
            Assert.Contains(ourData, r => long.Parse(r[6], System.Globalization.CultureInfo.InvariantCulture) > 1460);
            Assert.True(ourData.Count(r => r[5] == "2") >= ourData.Length * 9 / 10, "our new data goes out ECT(0)"); // resends go Not-ECT
            Assert.All(rows.Where(r => r[0] == NetworkNamespace.StackAddress && r[6] == "0" && r[1] == "0"), r => Assert.Equal("0", r[5])); // pure ACKs: Not-ECT
            Assert.Contains(rows, r => r[0] == NetworkNamespace.KernelAddress && r[6] != "0" && r[5] == "2"); // and the kernel marks its data too
        }
        finally
        {
            if (File.Exists(file)) File.Delete(file);
        }
    }
}
