using System.Text.Json;
using Microsoft.Playwright;
using Synack.Scenarios;
using Synack.Tests.Shared;

namespace Synack.Explorer.Tests;

/// <summary>
/// The stepper in a real browser: every scenario of the note walked event by event with the arrow key,
/// each moment checked against the run the server made (the same trace the ladders are drawn from).
/// </summary>
public class StepperTests(ExplorerPage explorer) : IClassFixture<ExplorerPage>
{
    private const string Shown = """
        () => {
          const t = id => document.getElementById(id).textContent;
          const cell = (who, f) => document.querySelector(`#${who}-tcb td[data-field='${f}']`)?.textContent ?? null;
          return [t('step-index'), t('client-state'), t('server-state'), t('lit-transition'), t('sentence'),
                  cell('client', 'SND.NXT'), cell('client', 'RCV.NXT'), cell('server', 'SND.NXT'), cell('server', 'RCV.NXT'),
                  cell('client', 'State'), cell('server', 'State')];
        }
        """;

    public static TheoryData<string> Scenarios()
    {
        var data = new TheoryData<string>();
        foreach (var s in ScenarioCatalog.All) data.Add(s.Name);
        return data;
    }

    [SkippableTheory]
    [MemberData(nameof(Scenarios))]
    public async Task Every_event_of_the_scenario_shows_the_states_transition_and_TCBs_of_the_run(string scenario)
    {
        var errors = new List<string>();
        string query = $"?scenario={scenario}";
        var page = await explorer.OpenAsync(query, errors);
        var steps = (await explorer.LabAsync(query)).GetProperty("steps");
        Assert.True(steps.GetArrayLength() > 10, $"{scenario}: {steps.GetArrayLength()} events");
        await WalkAsync(page, steps);
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_simultaneous_open_then_a_simultaneous_close_with_the_last_ACK_lost_composed_in_the_page()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=combined-fin", errors);
        await page.GetByLabel("Scenario").SelectOptionAsync("custom");
        await page.GetByLabel("Timeline", new() { Exact = false }).FillAsync(
            "0 client connect\n0 server connect\n100 client close\n100 server close\n100 link drop server>client ack");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('title').textContent.includes('custom')");

        var steps = (await explorer.LabAsync(new Uri(page.Url).Query)).GetProperty("steps");
        var states = (string who) => steps.EnumerateArray()
            .Where(s => s.GetProperty("kind").GetString() == "StateChanged" && s.GetProperty("endpoint").GetString() == who)
            .Select(s => s.GetProperty("to").GetString()).ToList();
        // Both SYNs cross (SYN-SENT -> SYN-RECEIVED on each side), both FINs cross (CLOSING on each side);
        // the server's ACK of the client's FIN is lost, so the client stays in CLOSING until its FIN is
        // sent again and acknowledged from the server's TIME-WAIT.
        Assert.Equal(["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"], states("client"));
        Assert.Equal(["SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"], states("server"));
        Assert.Contains(steps.EnumerateArray(), s => s.GetProperty("kind").GetString() == "Dropped");
        Assert.Equal(2, steps.EnumerateArray().Count(s => s.GetProperty("kind").GetString() == "Sent"
            && s.GetProperty("endpoint").GetString() == "client" && s.GetProperty("segment").GetProperty("flags").GetString()!.Contains('F')));
        await WalkAsync(page, steps);
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task The_options_over_the_profile_change_the_run_and_travel_in_the_URL()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=handshake-data-close", errors);
        await page.GetByLabel("Timestamps").SelectOptionAsync("on");
        await page.GetByLabel("MSS").FillAsync("1000");
        await page.GetByLabel("Client ISN").FillAsync("1");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await page.WaitForFunctionAsync("() => location.search.includes('cisn=1')");
        var steps = (await explorer.LabAsync(new Uri(page.Url).Query)).GetProperty("steps");
        var syn = steps.EnumerateArray().First(s => s.GetProperty("kind").GetString() == "Sent").GetProperty("segment");
        Assert.Equal(1u, syn.GetProperty("seq").GetUInt32());
        Assert.Contains("1000", syn.GetProperty("options").GetString());
        Assert.Contains("TS", syn.GetProperty("options").GetString(), StringComparison.OrdinalIgnoreCase);
        Assert.Contains("ts=on", page.Url);
        Assert.Contains("mss=1000", page.Url);

        // The same URL, opened afresh, fills the form the same way and shows the same run.
        var again = await explorer.OpenAsync(new Uri(page.Url).Query, errors);
        Assert.Equal("on", await again.InputValueAsync("#opt-ts"));
        Assert.Equal("1000", await again.InputValueAsync("#opt-mss"));
        Assert.Equal(await page.InnerHTMLAsync("#ladder"), await again.InnerHTMLAsync("#ladder"));
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_segments_bytes_open_on_demand_with_every_header_field_decoded()
    {
        var errors = new List<string>();
        var steps = (await explorer.LabAsync("?scenario=handshake-data-close")).GetProperty("steps");
        int syn = steps.EnumerateArray().First(s => s.GetProperty("kind").GetString() == "Sent").GetProperty("index").GetInt32();
        var page = await explorer.OpenAsync($"?scenario=handshake-data-close&step={syn}", errors);
        await page.GetByText("The segment's bytes").ClickAsync();
        string Field(string name) => $"#fields tr:has(th:text-is('{name}')) td";
        Assert.Equal("123456", await page.TextContentAsync(Field("sequence number")));
        Assert.Equal("80", await page.TextContentAsync(Field("destination port")));
        Assert.StartsWith("S (", await page.TextContentAsync(Field("flags")));
        Assert.Contains("mss", (await page.TextContentAsync(Field("options")))!, StringComparison.OrdinalIgnoreCase);
        Assert.True(await page.Locator("#bytes pre").IsVisibleAsync());
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_timeline_the_lab_cannot_run_is_refused_with_its_line()
    {
        using var response = await explorer.Http.GetAsync("api/lab?scenario=custom&timeline=" + Uri.EscapeDataString("0 client connect\n5 client fly"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("timeline line 2", await response.Content.ReadAsStringAsync());
    }

    /// <summary>Steps through every event with the arrow key, checking each moment against the server's run.</summary>
    private static async Task WalkAsync(IPage page, JsonElement steps)
    {
        int n = steps.GetArrayLength();
        string lit = "none yet";
        for (int i = 0; i < n; i++)
        {
            var step = steps[i];
            if (step.GetProperty("kind").GetString() == "StateChanged")
                lit = $"{step.GetProperty("endpoint").GetString()}: {step.GetProperty("from").GetString()} → {step.GetProperty("to").GetString()}";
            var shown = await page.EvaluateAsync<string?[]>(Shown);
            Assert.Equal($"{i + 1} of {n}", shown[0]);
            Assert.Equal(step.GetProperty("clientState").GetString(), shown[1]);
            Assert.Equal(step.GetProperty("serverState").GetString(), shown[2]);
            Assert.Equal(lit, shown[3]);
            Assert.Equal(step.GetProperty("sentence").GetString(), shown[4]);
            CheckTcb(step.GetProperty("client"), shown[5], shown[6], shown[9]);
            CheckTcb(step.GetProperty("server"), shown[7], shown[8], shown[10]);
            // The diagram marks each endpoint's state, and lights the transition just taken.
            Assert.Equal(1, await page.Locator($"#diagram g.state.client[data-state='{step.GetProperty("clientState").GetString()}']").CountAsync());
            Assert.Equal(1, await page.Locator($"#diagram g.state.server[data-state='{step.GetProperty("serverState").GetString()}']").CountAsync());
            Assert.Equal(lit == "none yet" ? 0 : 1, await page.Locator("#diagram line.edge.lit").CountAsync());
            if (i < n - 1) await page.Keyboard.PressAsync("ArrowRight");
        }
    }

    private static void CheckTcb(JsonElement tcb, string? sndNxt, string? rcvNxt, string? state)
    {
        if (tcb.ValueKind == JsonValueKind.Null)
        {
            Assert.Null(sndNxt);
            return;
        }
        Assert.EndsWith($"({tcb.GetProperty("sndNxt").GetUInt32()})", sndNxt);
        Assert.EndsWith($"({tcb.GetProperty("rcvNxt").GetUInt32()})", rcvNxt);
        Assert.Equal(tcb.GetProperty("state").GetString(), state);
    }

    [SkippableFact]
    public async Task Stepping_back_shows_the_earlier_moment_again_and_the_buttons_step_too()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=combined-fin&step=20", errors);
        var at20 = await page.EvaluateAsync<string?[]>(Shown);
        for (int i = 0; i < 3; i++) await page.Keyboard.PressAsync("ArrowLeft");
        Assert.StartsWith("18 of ", await page.TextContentAsync("#step-index"));
        await page.GetByRole(AriaRole.Button, new() { Name = "next event (right arrow)" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "next event (right arrow)" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "next event (right arrow)" }).ClickAsync();
        Assert.Equal(at20, await page.EvaluateAsync<string?[]>(Shown));
        await page.Keyboard.PressAsync("Home");
        Assert.StartsWith("1 of ", await page.TextContentAsync("#step-index"));
        Assert.True(await page.GetByRole(AriaRole.Button, new() { Name = "previous event (left arrow)" }).IsDisabledAsync());
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_shared_URL_replays_the_same_run_at_the_same_moment()
    {
        var errors = new List<string>();
        var first = await explorer.OpenAsync("?scenario=lost-final-ack", errors);
        await first.SelectOptionAsync("#profile", "linux");
        await first.FillAsync("#loss", "0.1");
        await first.FillAsync("#seed", "7");
        await first.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await first.WaitForFunctionAsync("() => location.search.includes('seed=7')");
        for (int i = 0; i < 15; i++) await first.Keyboard.PressAsync("ArrowRight");
        string url = first.Url;
        var shown = await first.EvaluateAsync<string?[]>(Shown);
        string ladder = await first.InnerHTMLAsync("#ladder");

        var second = await explorer.OpenAsync(new Uri(url).Query, errors);
        Assert.Equal(shown, await second.EvaluateAsync<string?[]>(Shown));
        Assert.Equal(ladder, await second.InnerHTMLAsync("#ladder"));
        Assert.Equal("linux", await second.InputValueAsync("#profile"));
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task Every_control_is_labelled_and_reached_by_the_keyboard()
    {
        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=half-close", errors);
        var unlabelled = await page.EvaluateAsync<string[]>("""
            () => [...document.querySelectorAll('button, select, input, textarea, a[href]')]
              .filter(e => !((e.labels && e.labels.length) || e.getAttribute('aria-label') || e.textContent.trim()))
              .map(e => e.id || e.outerHTML)
            """);
        Assert.Empty(unlabelled);
        var controls = await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('button:not([disabled]), select, input, textarea, a[href]')].filter(e => e.offsetParent !== null).map(e => e.id)");
        var reached = new HashSet<string>();
        for (int i = 0; i < controls.Length + 4; i++)
        {
            await page.Keyboard.PressAsync("Tab");
            reached.Add(await page.EvaluateAsync<string>("() => document.activeElement.id"));
        }
        Assert.All(controls, id => Assert.Contains(id, reached));
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task A_request_the_lab_cannot_run_is_refused_in_words()
    {
        using var response = await explorer.Http.GetAsync("api/lab?scenario=combined-fin&loss=2");
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("loss must be a number from 0 to 0.5", await response.Content.ReadAsStringAsync());

        var errors = new List<string>();
        var page = await explorer.OpenAsync("?scenario=combined-fin", errors);
        await page.FillAsync("#loss", "0.9");
        await page.EvalOnSelectorAsync("#loss", "e => e.removeAttribute('max')");
        await page.GetByRole(AriaRole.Button, new() { Name = "Run" }).ClickAsync();
        await page.WaitForFunctionAsync("() => document.getElementById('error').textContent.length > 0");
        Assert.Contains("loss must be", await page.TextContentAsync("#error"));
        errors.RemoveAll(e => e.Contains("400", StringComparison.Ordinal)); // the browser reports the refused fetch itself
        Assert.Empty(errors);
    }

    [SkippableFact]
    public async Task The_run_downloads_as_a_capture_Wireshark_opens()
    {
        var bytes = await explorer.Http.GetByteArrayAsync("api/lab.pcapng?scenario=combined-fin");
        Assert.True(bytes.Length > 200);
        Assert.Equal(0x0A0D0D0Au, BitConverter.ToUInt32(bytes, 0)); // pcapng's section header block
    }

    [SkippableFact]
    public async Task Pictures_of_each_view_are_taken_for_the_docs()
    {
        var errors = new List<string>();
        string dir = Chromium.PictureDirectory(Path.Combine(Path.GetTempPath(), "synack-explorer-pictures"));
        Directory.CreateDirectory(dir);
        // S9 at the FIN+ACK that makes it a three-segment close; S6 at CLOSING; S4 at the reset.
        string composed = "custom&timeline=" + Uri.EscapeDataString("0 client connect\n0 server connect\n100 client close\n100 server close\n100 link drop server>client ack");
        foreach (var (scenario, find, name) in new[]
        {
            ("combined-fin", "FIN+ACK reaches the client", "explorer-s9-combined-fin.png"),
            ("combined-fin", "from FIN-WAIT-1 to TIME-WAIT", "explorer-s9-time-wait.png"),
            ("simultaneous-close", "to CLOSING", "explorer-s6-closing.png"),
            ("lost-third-ack", "resets the connection", "explorer-s4-lost-third-segment.png"),
            (composed, "The link loses", "explorer-lab-composed.png"),
        })
        {
            var steps = (await explorer.LabAsync($"?scenario={scenario}")).GetProperty("steps");
            int at = steps.EnumerateArray().First(s => s.GetProperty("sentence").GetString()!.Contains(find, StringComparison.Ordinal)).GetProperty("index").GetInt32();
            var page = await explorer.OpenAsync($"?scenario={scenario}&step={at}", errors);
            string png = Path.Combine(dir, name);
            await page.ScreenshotAsync(new PageScreenshotOptions { Path = png });
            Assert.True(new FileInfo(png).Length > 20_000, png);
        }
        Assert.Empty(errors);
    }
}
