namespace Synack.Interop.Tests;

/// <summary>
/// Kernel-to-kernel captures taken with tcpdump in the namespace (curl against nginx, a refused connect,
/// a kernel keep-alive): our analyzer and tshark agree on every packet.
/// </summary>
public class KernelCaptureAnalysisTests
{
    [SkippableFact]
    public void Analyzer_agrees_with_tshark_on_kernel_captures()
    {
        using var ns = NetworkNamespace.Create();
        NetworkNamespace.RequireTools("/usr/sbin/nginx", "/usr/bin/tcpdump", "/usr/bin/tshark");
        var dir = Path.Combine(Path.GetTempPath(), $"synack-kcap-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(dir, "www"));
        var file = Path.Combine(dir, "lo.pcap");
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "www", "blob"), new byte[3_000_000]);
            File.WriteAllText(Path.Combine(dir, "nginx.conf"), NetworkNamespace.NginxConfig(dir, "127.0.0.1:8080"));
            using var dump = ns.BackgroundUntil("listening on", "tcpdump", "--immediate-mode", "-i", "lo", "-U", "-s", "200", "-w", file, "tcp");
            using var nginx = ns.Background("/usr/sbin/nginx", "-p", dir, "-c", Path.Combine(dir, "nginx.conf"));
            ns.ExecUntilItWorks("curl", "-sS", "-m", "20", "-o", "/dev/null", "http://127.0.0.1:8080/blob"); // nginx may still be starting
            ns.Exec("sh", "-c", "curl -sS -m 5 http://127.0.0.1:8081/ || true"); // refused: SYN, RST
            // A kernel keep-alive: the client probes every second while the server idles.
            ns.Exec("python3", "-c",
                "import socket,time\nl=socket.socket(); l.bind(('127.0.0.1',9000)); l.listen(1)\n" +
                "c=socket.create_connection(('127.0.0.1',9000)); s,_=l.accept()\n" +
                "c.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1)\n" +
                "time.sleep(3.5); c.close(); s.close()");
            NetworkNamespace.StopCapture(dump, file);
            nginx.Kill(entireProcessTree: true);

            int n = Synack.Tests.Shared.TsharkCompare.Compare("/usr/bin/tshark", file, (p, a) => NetworkNamespace.Run(p, a));
            Assert.True(n > 50, $"{n} packets");
            var conversations = Synack.Analysis.CaptureAnalyzer.Analyze(Synack.Wire.CaptureReader.Read(file));
            Assert.Contains(conversations, c => c.ConnState == "REJ");
            Assert.Contains(conversations, c => c.Packets.Any(p => p.Findings.Contains("keep_alive")));
            Assert.Contains(conversations, c => c.Packets.Any(p => p.Findings.Contains("keep_alive_ack")));

            // Wireshark's stream graphs of the download, drawn and loaded in Chromium with no error.
            var download = conversations.MaxBy(c => c.ServerBytes)!;
            Assert.True(download.ServerBytes >= 3_000_000);
            var page = Path.Combine(dir, "graphs.html");
            File.WriteAllText(page, Synack.Analysis.LadderHtml.Render([download], "curl downloading 3 MB from nginx, kernel to kernel (loopback, MTU 65536)"));
            using var chromium = new Synack.Tests.Shared.Chromium();
            var (body, console) = chromium.Load(page);
            Assert.Contains("data-graphs=\"5\"", body);
            Assert.DoesNotContain("data-error", body);
            Assert.DoesNotMatch("CONSOLE.*(Uncaught|Error)", console);
            var png = Path.Combine(Synack.Tests.Shared.Chromium.PictureDirectory(dir), "graphs-kernel.png");
            chromium.Screenshot(page, png, 1000, 1500);
            Assert.True(new FileInfo(png).Length > 20_000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
