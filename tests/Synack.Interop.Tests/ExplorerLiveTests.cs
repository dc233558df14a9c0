using System.Text.Json;
using Microsoft.Playwright;
using Synack.Tests.Shared;

namespace Synack.Interop.Tests;

/// <summary>
/// `synack serve --explore`: the explorer's live feed follows the connections the Linux kernel opens to
/// the stack over TUN (curl from the kernel's side), as the live page reads it.
/// </summary>
public class ExplorerLiveTests
{
    [SkippableFact]
    public void A_curl_from_the_kernel_shows_up_in_the_live_feed_with_its_handshake_and_close()
    {
        using var ns = NetworkNamespace.StartServe("--explore", "5290");
        Assert.Contains(ns.ServeOutput, l => l.Contains("the explorer follows each connection live at http://127.0.0.1:5290/", StringComparison.Ordinal));

        var body = ns.Exec("curl", "-sS", "-m", "20", $"http://{NetworkNamespace.StackAddress}/");
        Assert.False(string.IsNullOrWhiteSpace(body));

        // The explorer listens on the namespace's own loopback: ask it from inside.
        JsonElement live = default;
        for (int i = 0; i < 50; i++)
        {
            live = JsonDocument.Parse(ns.Exec("curl", "-sS", "-m", "5", "http://127.0.0.1:5290/api/live")).RootElement.Clone();
            if (live.GetProperty("connections").GetArrayLength() > 0 && live.GetProperty("connections")[0].GetProperty("state").GetString() is "CLOSED" or "TIME-WAIT") break;
            Thread.Sleep(100);
        }
        Assert.True(live.GetProperty("enabled").GetBoolean());
        var connection = live.GetProperty("connections")[0];
        Assert.StartsWith(NetworkNamespace.KernelAddress + ":", connection.GetProperty("remote").GetString());
        int id = connection.GetProperty("id").GetInt32();

        var events = JsonDocument.Parse(ns.Exec("curl", "-sS", "-m", "5", $"http://127.0.0.1:5290/api/live/{id}/events")).RootElement;
        var kinds = events.EnumerateArray().Select(e => e.GetProperty("kind").GetString()).ToList();
        var states = events.EnumerateArray().Where(e => e.GetProperty("kind").GetString() == "StateChanged").Select(e => e.GetProperty("to").GetString()).ToList();
        Assert.Equal("S", events.EnumerateArray().First(e => e.GetProperty("kind").GetString() == "In").GetProperty("segment").GetProperty("flags").GetString());
        Assert.Contains("Out", kinds);
        Assert.Contains("ESTABLISHED", states);
        Assert.Contains(states, s => s is "CLOSED" or "TIME-WAIT" or "LAST-ACK" or "FIN-WAIT-2");

        var capture = ns.Exec("sh", "-c", $"curl -sS -m 5 http://127.0.0.1:5290/api/live/{id}/capture | head -c 4 | od -An -tx1");
        Assert.Equal("0a 0d 0d 0a", capture.Trim());
    }

    [SkippableFact]
    public async Task The_live_page_in_a_browser_follows_a_curl_from_the_kernel()
    {
        using var ns = NetworkNamespace.StartServe("--explore", "5291");
        string chromium = ExternalTool.Require("chromium", "chromium");
        // The explorer listens on the namespace's loopback, so the browser runs in the namespace too.
        string wrapper = Path.Combine(Path.GetTempPath(), $"synack-chromium-{Guid.NewGuid():N}.sh");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec ip netns exec {ns.Name} {chromium} \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        try
        {
            using var playwright = await Playwright.CreateAsync();
            await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = wrapper,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
            });
            var page = await browser.NewPageAsync();
            var errors = new List<string>();
            page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
            await page.GotoAsync("http://127.0.0.1:5291/");
            await page.WaitForSelectorAsync("body[data-ready=true]");

            ns.Exec("curl", "-sS", "-m", "20", "-o", "/dev/null", $"http://{NetworkNamespace.StackAddress}/");
            await page.WaitForFunctionAsync("() => document.getElementById('live-connection').options.length >= 1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Follow this connection" }).ClickAsync();
            await page.WaitForFunctionAsync("() => ['CLOSED', 'TIME-WAIT', 'LAST-ACK', 'FIN-WAIT-2'].includes(document.getElementById('server-state').textContent)");
            Assert.True(await page.Locator("#ladder line.segment").CountAsync() >= 5);
            Assert.Empty(errors);
        }
        finally
        {
            File.Delete(wrapper);
        }
    }
}
