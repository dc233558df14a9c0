using Synack.Simulation;
using Synack.Stack;
using Synack.Tests.Shared;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>The HTML report in a real browser: headless Chromium loads it, runs its script, draws it.</summary>
public class HtmlReportTests
{
    private static IReadOnlyList<Conversation> ThreeConnections() =>
        SimulatedCapture.Run(21, new LinkConditions { Loss = 0.1, Seed = 21 }, tapServer: false, async (client, listener) =>
        {
            for (int i = 0; i < 3; i++)
            {
                var accept = listener.AcceptAsync();
                var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
                var s = await accept;
                await c.WriteAsync(new byte[5000]);
                c.ShutdownSend();
                var buf = new byte[8192];
                while (await s.ReadAsync(buf) > 0) { }
                await s.CloseAsync();
                await c.ReadAsync(buf);
                await c.CloseAsync();
            }
        });

    [SkippableFact]
    public void Chromium_renders_one_svg_ladder_per_connection_without_script_errors()
    {
        using var chromium = new Chromium();
        var conversations = ThreeConnections();
        Assert.Equal(3, conversations.Count);
        var dir = Path.Combine(Path.GetTempPath(), $"synack-html-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var page = Path.Combine(dir, "report.html");
            File.WriteAllText(page, LadderHtml.Render(conversations, "three connections"));
            var (body, _) = chromium.Load(page);
            Assert.Contains("data-ladders=\"3\"", body);     // the page's own script ran and counted them
            Assert.DoesNotContain("data-error", body);        // and nothing threw (window.onerror marks the body)
            var png = Path.Combine(dir, "report.png");
            chromium.Screenshot(page, png, 1100, 900);
            Assert.True(new FileInfo(png).Length > 10_000);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Mermaid_and_html_carry_every_packet_and_the_states()
    {
        var conversations = ThreeConnections();
        var mermaid = LadderHtml.Mermaid(conversations);
        Assert.Equal(3, mermaid.Split("sequenceDiagram").Length - 1);
        Assert.Equal(conversations.Sum(c => c.Packets.Count), mermaid.Split('\n').Count(l => l.Contains("->>")));
        Assert.Contains("Note left of C: TIME-WAIT", mermaid);
        var html = LadderHtml.Render(conversations, "x");
        Assert.Equal(3, html.Split("<svg class=\"ladder\"").Length - 1);
        Assert.Contains("retransmission", html); // 10% loss: findings are drawn
    }
}

public class AnalysisAgainstTsharkTests
{
    /// <summary>Our tap's capture of three lossy connections (10% loss): every packet agrees with tshark.</summary>
    [SkippableFact]
    public void A_tapped_lossy_capture_agrees_with_tshark_packet_by_packet()
    {
        var tshark = ExternalTool.Require("tshark", "tshark");
        var net = new SimulatedNetwork(33);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Loss = 0.08, Reordering = 0.05, Seed = 33 }, client, server);
        var file = Path.Combine(Path.GetTempPath(), $"synack-cmp-{Guid.NewGuid():N}.pcapng");
        try
        {
            using (var tap = new CaptureTap(File.Create(file)))
            {
                tap.Attach(client);
                var listener = TcpListener.Start(server, 80);
                net.Run(async () =>
                {
                    for (int i = 0; i < 3; i++)
                    {
                        var accept = listener.AcceptAsync();
                        var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
                        var s = await accept;
                        await s.WriteAsync(new byte[60_000]);
                        await s.CloseAsync();
                        var buf = new byte[8192];
                        while (await c.ReadAsync(buf) > 0) { }
                        await c.CloseAsync();
                    }
                }, TimeSpan.FromMinutes(10));
            }
            int n = Synack.Tests.Shared.TsharkCompare.Compare(tshark, file, ExternalTool.Run);
            Assert.True(n > 100, $"{n} packets");
        }
        finally
        {
            File.Delete(file);
        }
    }
}
