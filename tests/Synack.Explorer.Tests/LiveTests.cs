using Microsoft.Playwright;
using Synack.Scenarios;
using Synack.Simulation;
using Synack.Tests.Shared;

namespace Synack.Explorer.Tests;

/// <summary>An explorer whose live page follows the server stack of a run on the simulated network.</summary>
public sealed class LiveExplorerPage : ExplorerPage
{
    public StackRun Run { get; } = new(new LinkConditions { Latency = TimeSpan.FromMilliseconds(10) });
    public LiveFeed Feed { get; } = new();

    public LiveExplorerPage() => Feed.Attach(Run.ServerStack);

    protected override LiveFeed? Live => Feed;
}

/// <summary>
/// The live page: connections of a running stack appear as they happen, the ladder grows and the states
/// move while the page watches, and what was seen exports as pcapng.
/// </summary>
public class LiveTests(LiveExplorerPage explorer) : IClassFixture<LiveExplorerPage>
{
    [SkippableFact]
    public async Task A_connection_to_the_stack_appears_as_it_happens_and_its_ladder_grows()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=combined-fin", errors);
        Assert.True(await page.Locator("#live-pick").IsVisibleAsync());
        var run = explorer.Run;

        // A client connects to the stack the page follows.
        run.Server.Listen();
        run.Client.Connect();
        run.RunFor(TimeSpan.FromMilliseconds(100));
        await page.WaitForFunctionAsync("() => document.getElementById('live-connection').options.length === 1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Follow this connection" }).ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('server-state').textContent === 'ESTABLISHED'");
        int before = await page.Locator("#ladder line.segment").CountAsync();
        Assert.Equal(3, before); // SYN in, SYN-ACK out, ACK in

        // While the page watches: data both ways, then the client closes and the server answers.
        run.Client.Send(100);
        run.RunFor(TimeSpan.FromMilliseconds(100));
        run.Client.Close();
        run.RunFor(TimeSpan.FromMilliseconds(100));
        run.Server.Close();
        run.RunFor(TimeSpan.FromMilliseconds(100));
        await page.WaitForFunctionAsync("() => document.getElementById('server-state').textContent === 'CLOSED'");
        var events = await explorer.Http.GetStringAsync("api/live/1/events");
        int total = System.Text.Json.JsonDocument.Parse(events).RootElement.GetArrayLength();
        await page.WaitForFunctionAsync($"() => document.getElementById('step-index').textContent === '{total} of {total}'");
        Assert.True(await page.Locator("#ladder line.segment").CountAsync() > before);
        Assert.Equal("stack: LAST-ACK → CLOSED", await page.TextContentAsync("#lit-transition"));

        string dir = Chromium.PictureDirectory(Path.Combine(Path.GetTempPath(), "synack-explorer-pictures"));
        Directory.CreateDirectory(dir);
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(dir, "explorer-live.png") });

        var capture = await explorer.Http.GetByteArrayAsync("api/live/1/capture");
        Assert.Equal(0x0A0D0D0Au, BitConverter.ToUInt32(capture, 0));
        Assert.Empty(errors);
    }
}
