using System.Text.Json;
using Microsoft.Playwright;
using Synack.Tests.Shared;

namespace Synack.Explorer.Tests;

/// <summary>
/// The explorer on a free loopback port and a real browser (the system's Chromium, headless, driven by
/// Playwright) for every test of a class. Chromium missing: skipped with how to get it, or on CI
/// (CI=true, where .ci/run installs it) a failure.
/// </summary>
public class ExplorerPage : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public ExplorerServer Server { get; private set; } = null!;
    public IBrowser? Browser { get; private set; }
    public string? Unavailable { get; private set; }
    public HttpClient Http { get; } = new();

    /// <summary>What the live page follows, if this explorer has one.</summary>
    protected virtual LiveFeed? Live => null;

    public async Task InitializeAsync()
    {
        Server = await ExplorerServer.StartAsync(0, Live);
        Http.BaseAddress = Server.Url;
        string? chromium = FindChromium();
        if (chromium is null)
        {
            Unavailable = "chromium is not installed (apt-get install chromium)";
            if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException(Unavailable + ", and CI=true requires it");
            return;
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        });
    }

    private static string? FindChromium()
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var path = Path.Combine(dir, "chromium");
            if (File.Exists(path)) return path;
        }
        return null;
    }

    /// <summary>A fresh page on <paramref name="query"/>, once its first run is drawn; what it logs as an error is collected in <paramref name="errors"/>.</summary>
    public async Task<IPage> OpenAsync(string query, List<string> errors, int width = 1500, int height = 1000)
    {
        Skip.If(Browser is null, Unavailable);
        var page = await Browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = width, Height = height } });
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(new Uri(Server.Url, query).ToString());
        await page.WaitForSelectorAsync("body[data-ready=true]");
        return page;
    }

    /// <summary>The run the API gives for <paramref name="query"/>: what the page must show.</summary>
    public async Task<JsonElement> LabAsync(string query)
    {
        using var response = await Http.GetAsync("api/lab" + query);
        response.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public virtual async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        Http.Dispose();
        await Server.DisposeAsync();
    }
}
