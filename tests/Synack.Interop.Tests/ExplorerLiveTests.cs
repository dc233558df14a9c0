using System.Text.Json;

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
}
