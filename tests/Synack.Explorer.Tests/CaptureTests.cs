using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Microsoft.Playwright;
using Synack.Wire;
using Xunit.Abstractions;

namespace Synack.Explorer.Tests;

/// <summary>
/// A capture opened in the page: the server analyzes it once and sends the window looked at, so the
/// stepper walks a capture of any size with the analyzer's inferred states.
/// </summary>
public class CaptureTests(ExplorerPage explorer, ITestOutputHelper output) : IClassFixture<ExplorerPage>
{
    private static string Repository()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Synack.sln"))) return d.FullName;
        }
        throw new DirectoryNotFoundException("the repository");
    }

    [SkippableFact]
    public async Task A_capture_from_the_test_data_opens_and_every_packet_shows_the_analyzers_states()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=combined-fin", errors);
        await page.GetByLabel("Open a capture", new() { Exact = false }).SetInputFilesAsync(Path.Combine(Repository(), "fuzz", "corpus", "capture", "demo.pcapng.gz"));
        await page.WaitForFunctionAsync("() => location.search.startsWith('?capture=')");
        var query = System.Web.HttpUtility.ParseQueryString(new Uri(page.Url).Query);
        string id = query["capture"]!;
        int stream = int.Parse(query["stream"]!, System.Globalization.CultureInfo.InvariantCulture);

        // Wireshark's stream graphs and the analyzer's ladders, for the capture the page opened.
        string report = await explorer.Http.GetStringAsync($"api/captures/{id}/report");
        Assert.Contains("<svg", report);
        Assert.Equal($"api/captures/{id}/report", await page.GetAttributeAsync("#report", "href"));
        // Beside the stepper, the graphs of the conversation being stepped.
        await page.GetByText("Wireshark's stream graphs of this conversation").ClickAsync();
        // The panel's toggle event sets the frame's address after the click returns (a CI run read about:blank).
        await page.WaitForFunctionAsync("end => (document.querySelector('#graphs').getAttribute('src') ?? '').endsWith(end)", $"report#s{stream}");
        Assert.EndsWith($"report#s{stream}", await page.GetAttributeAsync("#graphs", "src")); // loaded once asked for
        await page.FrameLocator("#graphs").Locator($"h2#s{stream}").WaitForAsync();
        Assert.True(await page.FrameLocator("#graphs").Locator("svg").CountAsync() > 0);
        string dir = Synack.Tests.Shared.Chromium.PictureDirectory(Path.Combine(Path.GetTempPath(), "synack-explorer-pictures"));
        Directory.CreateDirectory(dir);
        await page.Locator("#graphs-box").ScrollIntoViewIfNeededAsync();
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, "explorer-capture-graphs.png") });
        await page.GetByText("Wireshark's stream graphs of this conversation").ClickAsync(); // closed again
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");

        var window = await Window(id, stream, 0);
        int total = window.GetProperty("total").GetInt32();
        Assert.True(total > 5, $"{total} packets");
        var packets = window.GetProperty("packets");
        for (int i = 0; i < total; i++)
        {
            var p = packets[i];
            Assert.Equal($"{i + 1} of {total}", await page.TextContentAsync("#step-index"));
            Assert.Equal(p.GetProperty("clientState").GetString(), await page.TextContentAsync("#client-state"));
            Assert.Equal(p.GetProperty("serverState").GetString(), await page.TextContentAsync("#server-state"));
            Assert.Equal(1, await page.Locator($"#diagram g.state.client[data-state='{p.GetProperty("clientState").GetString()}']").CountAsync());
            if (i < total - 1) await page.Keyboard.PressAsync("ArrowRight");
        }
        await page.Keyboard.PressAsync("Home");
        for (int i = 0; i < Math.Min(6, total - 1); i++) await page.Keyboard.PressAsync("ArrowRight");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, "explorer-capture.png") });
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_capture_of_a_million_packets_opens_and_steps_with_small_answers()
    {
        string file = Path.Combine(Path.GetTempPath(), $"synack-million-{Guid.NewGuid():N}.pcapng.gz");
        try
        {
            WriteMillion(file);
            var errors = new List<string>();
            var page = await explorer.OpenAsync("?scenario=combined-fin", errors);
            var clock = Stopwatch.StartNew();
            await page.GetByLabel("Open a capture", new() { Exact = false }).SetInputFilesAsync(file);
            await page.WaitForFunctionAsync("() => document.getElementById('step-index').textContent === '1 of 1000000'", null, new() { Timeout = 180_000 });
            var firstPaint = clock.Elapsed;

            // The page stays with it: the last packet, back to the first, a few steps, each a window away.
            await page.Keyboard.PressAsync("End");
            await page.WaitForFunctionAsync("() => document.getElementById('step-index').textContent === '1000000 of 1000000'");
            Assert.Equal("CLOSED", await page.TextContentAsync("#server-state"));
            await page.Keyboard.PressAsync("Home");
            for (int i = 0; i < 40; i++) await page.Keyboard.PressAsync("ArrowRight");
            await page.WaitForFunctionAsync("() => document.getElementById('step-index').textContent === '41 of 1000000'");
            Assert.Equal("ESTABLISHED", await page.TextContentAsync("#client-state"));

            // The largest answer the page asked for (a window of rows), and how many rows the ladder draws.
            long largest = await page.EvaluateAsync<long>("""
                () => Math.max(...performance.getEntriesByType('resource').filter(e => e.name.includes('/api/captures/')).map(e => e.encodedBodySize))
                """);
            int drawn = await page.Locator("#ladder line.segment").CountAsync();
            output.WriteLine($"first paint of the stepper: {firstPaint.TotalSeconds:F1} s after the file was chosen (upload and analysis included); largest answer {largest:N0} bytes; {drawn} rows drawn");
            Assert.InRange(largest, 1, 256 * 1024);
            Assert.InRange(drawn, 1, 60);
            Assert.Empty(errors);
        }
        finally
        {
            File.Delete(file);
        }
    }

    private async Task<JsonElement> Window(string id, int stream, int from)
    {
        var text = await explorer.Http.GetStringAsync($"api/captures/{id}/packets?stream={stream}&from={from}&count=500");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>One connection of a million packets: handshake, 499,997 one-byte requests each acknowledged, close.</summary>
    private static void WriteMillion(string path)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var w = new PcapNgWriter(gz, ownsStream: false);
        int iface = w.AddInterface("explorer-test");
        var buf = new byte[128];
        var one = new byte[1];
        var a = IpAddr.Parse("192.0.2.1");
        var b = IpAddr.Parse("198.51.100.1");
        long t = 0;
        void Emit(bool fromClient, TcpFlags flags, uint seq, uint ack, int len)
        {
            var h = new TcpHeader
            {
                SourcePort = fromClient ? (ushort)40000 : (ushort)80,
                DestinationPort = fromClient ? (ushort)80 : (ushort)40000,
                Seq = new SeqNum(seq),
                Ack = new SeqNum(ack),
                Flags = flags,
                Window = 512,
            };
            int n = TcpPacket.Write(buf, fromClient ? a : b, fromClient ? b : a, in h, TcpOptionLayout.Linux, one.AsSpan(0, len));
            w.WritePacket(iface, buf.AsSpan(0, n), t += 10_000);
        }
        uint c = 1000, s = 5000;
        Emit(true, TcpFlags.Syn, c, 0, 0);
        Emit(false, TcpFlags.Syn | TcpFlags.Ack, s, c + 1, 0);
        Emit(true, TcpFlags.Ack, c + 1, s + 1, 0);
        c++;
        s++;
        for (int i = 0; i < 499_997; i++)
        {
            Emit(true, TcpFlags.Ack | TcpFlags.Psh, c, s, 1);
            c++;
            Emit(false, TcpFlags.Ack, s, c, 0);
        }
        Emit(true, TcpFlags.Fin | TcpFlags.Ack, c, s, 0);
        Emit(false, TcpFlags.Fin | TcpFlags.Ack, s, c + 1, 0);
        Emit(true, TcpFlags.Ack, c + 1, s + 1, 0);
    }
}
