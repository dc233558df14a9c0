using System.Text.RegularExpressions;
using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Tests.Shared;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>
/// Wireshark's TCP stream graphs in the HTML report, for a transfer over our simulated link at 2 % loss:
/// the time-sequence graph shows the retransmissions and the SACK blocks that loss brings, the RTT graph
/// has its samples, the states run along the time axis — and headless Chromium loads the page with no
/// error and takes its picture (written to docs/ when SYNACK_WRITE_DOCS=1).
/// </summary>
public class StreamGraphTests
{
    private static IReadOnlyList<Conversation> LossyTransfer() =>
        // Tapped at the sender, as one captures a server's transfers: the RTT is the path's.
        SimulatedCapture.Run(2, new LinkConditions { Loss = 0.02, Seed = 2, Latency = TimeSpan.FromMilliseconds(10), RateBytesPerSecond = 6_250_000 }, tapServer: true, async (client, listener) =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            var s = await accept;
            var w = s.WriteAsync(new byte[2 << 20]);
            var buf = new byte[64 * 1024];
            long got = 0;
            while (got < 2 << 20) got += await c.ReadAsync(buf);
            await w;
            await s.CloseAsync();
            await c.ReadAsync(buf);
            await c.CloseAsync();
        });

    private static int Count(string html, string cls) => Regex.Matches(html, $"class=\"{cls}\"").Count;

    [Fact]
    public void A_lossy_transfer_draws_retransmissions_sacks_rtt_samples_and_the_states()
    {
        var c = Assert.Single(LossyTransfer());
        var html = LadderHtml.Render([c], "2 % loss");
        Assert.Equal(5, Count(html, "graph"));
        int resent = c.Packets.Count(p => p.Findings.Contains("retransmission") || p.Findings.Contains("out_of_order"));
        Assert.True(resent > 0, "no retransmission at 2 % loss");
        Assert.Equal(resent, Count(html, "rtx"));                                  // each one drawn red
        Assert.Equal(c.Packets.Where(p => !p.FromClient && p.Length > 0).Count() - resent, Count(html, "seg"));
        Assert.True(Count(html, "sack") > 0, "no SACK block drawn");
        Assert.True(Count(html, "rtt") > 100, $"{Count(html, "rtt")} RTT samples");
        Assert.Contains("ESTABLISHED", html);
        Assert.Contains("TIME-WAIT", html);
        Assert.Contains("<title>FIN-WAIT-1", html);
    }

    [Fact]
    public void A_million_packet_conversation_is_drawn_in_bounded_space_with_its_retransmissions_evenly_kept()
    {
        // A streaming report keeps a sketch, not the packets: its marks stay within a fixed number,
        // spread over the whole transfer, and the resent segments are thinned apart from the rest.
        var c = new Conversation { Stream = 0, Client = "192.0.2.1:40000", Server = "192.0.2.2:80" };
        var output = new StringWriter();
        var report = new DiagramAnalysisWriter(output, "a million packets");
        var none = Array.Empty<string>();
        string[] resent = ["retransmission"];
        const int segments = 500_000;
        for (int i = 0; i < segments; i++)
        {
            double t = i * 1e-5;
            bool again = i % 50 == 49;
            long seq = again ? (i - 10) * 1000L : i * 1000L;
            report.Packet(c, new PacketView(2 * i + 1, t, false, TcpFlags.Ack, 0, 0, seq, 1, 1000, 65535, again ? resent : none, TcpState.Established, TcpState.Established, null));
            report.Packet(c, new PacketView(2 * i + 2, t + 5e-6, true, TcpFlags.Ack, 0, 0, 1, seq + 1000, 0, 65535, none, TcpState.Established, TcpState.Established, null));
        }
        report.End(new AnalysisSummary());
        var html = output.ToString();
        int marks = Count(html, "seg"), red = Count(html, "rtx");
        Assert.InRange(marks, 2048, 4096);
        Assert.InRange(red, 2048, 4096);                    // 10,000 retransmissions, none drowned among 490,000 others
        Assert.True(html.Length < 4_000_000, $"{html.Length} characters");
        Assert.Contains("The ladder shows the first 400 of 1000000 packets", html);
        // Spread over the whole transfer: the last segment kept is in the last hundredth of the time axis.
        var xs = Regex.Matches(html, "<line class=\"seg\" x1=\"([0-9.]+)\"").Select(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.True(xs.Max() > 90 + 0.99 * 850, $"last mark at x={xs.Max()}");
    }

    [SkippableFact]
    public void Chromium_loads_the_graphs_with_no_error_and_takes_their_picture()
    {
        using var chromium = new Chromium();
        var html = LadderHtml.Render(LossyTransfer(), "a transfer at 2 % loss, simulated link");
        var dir = Path.Combine(Path.GetTempPath(), $"synack-graphs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var page = Path.Combine(dir, "graphs.html");
            File.WriteAllText(page, html);
            var (body, console) = chromium.Load(page);
            Assert.Contains("data-graphs=\"5\"", body);
            Assert.DoesNotContain("data-error", body);
            Assert.DoesNotMatch("CONSOLE.*(Uncaught|Error)", console);
            var png = Path.Combine(Chromium.PictureDirectory(dir), "graphs-lossy.png");
            chromium.Screenshot(page, png, 1000, 1500);
            Assert.True(new FileInfo(png).Length > 20_000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
