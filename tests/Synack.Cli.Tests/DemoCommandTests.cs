using Synack.Simulation;

namespace Synack.Cli.Tests;

public class DemoCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    [Fact]
    public void List_names_every_scenario_with_a_description()
    {
        var (exit, output, _) = Run("demo", "--list");
        Assert.Equal(0, exit);
        foreach (var name in new[] { "handshake-data-close", "simultaneous-close", "combined-fin", "lost-third-ack", "old-duplicate-syn", "lost-final-ack", "keepalive-dead-peer", "half-close" })
        {
            Assert.Contains(name, output);
        }
    }

    [Fact]
    public void The_default_scenario_prints_a_ladder_with_absolute_and_relative_numbers()
    {
        var (exit, output, _) = Run("demo");
        Assert.Equal(0, exit);
        Assert.Contains("handshake-data-close", output);
        Assert.Contains("123456 (0)", output);
        Assert.Contains("mss 1460,nop,wscale 3,nop,nop,sackOK", output);
        Assert.Contains("client states: CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT -> CLOSED", output);
    }

    [Fact]
    public void Combined_fin_shows_fin_wait_1_straight_to_time_wait()
    {
        var (_, output, _) = Run("demo", "--scenario", "combined-fin");
        Assert.Contains("client states: CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> TIME-WAIT -> CLOSED", output);
    }

    [Fact]
    public void Across_the_scenarios_every_closing_state_is_shown()
    {
        var (exit, output, _) = Run("demo", "--all");
        Assert.Equal(0, exit);
        foreach (var state in new[] { "FIN-WAIT-1", "FIN-WAIT-2", "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT" })
        {
            Assert.Contains($" {state} ", output);
        }
    }

    [Fact]
    public void An_unknown_scenario_is_a_clear_error_and_a_nonzero_exit()
    {
        var (exit, _, err) = Run("demo", "--scenario", "no-such-thing");
        Assert.Equal(2, exit);
        Assert.Contains("no scenario named 'no-such-thing'", err);
        Assert.Contains("combined-fin", err);
    }

    [Fact]
    public void Trace_adds_every_event()
    {
        var (_, output, _) = Run("demo", "--scenario", "lost-final-ack", "--trace");
        Assert.Contains("TimerFired", output);
        Assert.Contains("StateChanged", output);
        Assert.Contains("dropped by rule", output);
    }

    [Fact]
    public void The_demo_runs_on_the_real_stack_by_default_and_on_bare_connections_on_request()
    {
        var (_, onStack, _) = Run("demo", "--scenario", "lost-final-ack");
        var (_, onHarness, _) = Run("demo", "--scenario", "lost-final-ack", "--engine", "bare");
        Assert.Contains("two NetworkStacks on a MemoryLink", onStack);
        Assert.Contains("two bare connections", onHarness);
        // Below the engine line, the two ladders are the same to the character.
        Assert.Equal(onHarness.Split('\n')[2..], onStack.Split('\n')[2..]);
    }

    [Fact]
    public void The_bare_engine_runs_on_the_same_lossy_link_and_replays_by_seed()
    {
        var a = Run("demo", "--engine", "bare", "--loss", "0.2", "--seed", "3", "--latency", "25");
        var b = Run("demo", "--engine", "bare", "--loss", "0.2", "--seed", "3", "--latency", "25");
        Assert.Equal(0, a.Exit);
        Assert.Equal(a.Out, b.Out);
        Assert.Contains("[lost: random loss]", a.Out);
        Assert.Contains("    25.000  SYN-SENT", a.Out); // the SYN arrives after the chosen latency
    }

    [Fact]
    public void The_same_seed_replays_the_same_lossy_run_and_another_seed_differs()
    {
        var a = Run("demo", "--loss", "0.2", "--seed", "3").Out;
        var b = Run("demo", "--loss", "0.2", "--seed", "3").Out;
        var c = Run("demo", "--loss", "0.2", "--seed", "4").Out;
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Contains("[lost: random loss]", a + c);
    }

    [Theory]
    [InlineData("--loss", "1.5", "--loss must be a probability")]
    [InlineData("--latency", "-3", "--latency must be between")]
    [InlineData("--engine", "tuna", "tuna")]
    public void Bad_link_settings_are_clear_errors(string option, string value, string message)
    {
        var (exit, _, err) = Run("demo", option, value);
        Assert.NotEqual(0, exit);
        Assert.Contains(message, err);
    }

    [Fact]
    public void Capture_writes_a_pcapng_file()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synack-cli-{Guid.NewGuid():N}.pcapng");
        try
        {
            var (exit, output, _) = Run("demo", "--scenario", "combined-fin", "--capture", path);
            Assert.Equal(0, exit);
            Assert.Contains(path, output);
            var bytes = File.ReadAllBytes(path);
            Assert.Equal(0x0A0D0D0Au, BitConverter.ToUInt32(bytes, 0));
            Assert.True(bytes.Length > 500);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_capture_path_that_cannot_be_written_is_a_clear_error()
    {
        var (exit, _, err) = Run("demo", "--capture", "/nonexistent-dir/x.pcapng");
        Assert.Equal(1, exit);
        Assert.Contains("cannot write", err);
    }

    [Fact]
    public void Analyze_reads_a_demo_capture_as_text_and_as_json()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synack-an-{Guid.NewGuid():N}.pcapng");
        try
        {
            Run("demo", "--scenario", "combined-fin", "--capture", path);
            var (exit, text, _) = Run("analyze", path);
            Assert.Equal(0, exit);
            Assert.Contains("close three-way", text);
            Assert.Contains("FIN-WAIT-1", text);
            var (jexit, json, _) = Run("analyze", path, "--format", "json");
            Assert.Equal(0, jexit);
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            var conn = doc.RootElement.GetProperty("connections")[0];
            Assert.Equal("three-way", conn.GetProperty("closeKind").GetString());
            Assert.Equal(123456u, conn.GetProperty("clientIsn").GetUInt32());
            Assert.Equal(1460, conn.GetProperty("options").GetProperty("client").GetProperty("mss").GetInt32());
            var packets = doc.RootElement.GetProperty("packets");
            Assert.Equal(packets.GetArrayLength(), conn.GetProperty("packets").GetInt32());
            Assert.Equal("S", packets[0].GetProperty("flags").GetString());
            Assert.Equal(0, packets[0].GetProperty("stream").GetInt32());
            Assert.Equal("TIME-WAIT", packets[packets.GetArrayLength() - 1].GetProperty("clientState").GetString());
            Assert.Equal(packets.GetArrayLength(), doc.RootElement.GetProperty("summary").GetProperty("tcpFrames").GetInt32());
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Analyze_to_a_file_takes_back_a_damaged_captures_output_unless_partial_and_never_replaces_the_target()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"synack-an-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            var capture = Path.Combine(dir, "cut.pcapng");
            Run("demo", "--scenario", "combined-fin", "--capture", capture);
            var bytes = File.ReadAllBytes(capture);
            File.WriteAllBytes(capture, bytes[..(bytes.Length - 40)]);

            var fresh = Path.Combine(dir, "fresh.json");
            var (exit, _, err) = Run("analyze", capture, "--format", "json", "--out", fresh);
            Assert.Equal(1, exit);
            Assert.Contains("nothing written", err);
            Assert.False(File.Exists(fresh)); // created by the command, so removed

            var existing = Path.Combine(dir, "existing.json");
            File.WriteAllText(existing, "old");
            var link = Path.Combine(dir, "link.json");
            File.CreateSymbolicLink(link, existing); // a target that is not a plain new file: written through, never renamed over
            (exit, _, _) = Run("analyze", capture, "--format", "json", "--out", link);
            Assert.Equal(1, exit);
            Assert.Equal(0, new FileInfo(existing).Length); // emptied, not deleted
            Assert.NotNull(new FileInfo(link).LinkTarget);  // still the link it was

            (exit, _, _) = Run("analyze", capture, "--format", "json", "--out", link, "--partial");
            Assert.Equal(1, exit);
            Assert.NotNull(new FileInfo(link).LinkTarget);  // written through the link (a rename would have replaced it, as it once replaced /dev/null)
            using var doc = System.Text.Json.JsonDocument.Parse(File.ReadAllText(existing));
            Assert.Contains("truncated", doc.RootElement.GetProperty("summary").GetProperty("error").GetString());
            Assert.True(doc.RootElement.GetProperty("packets").GetArrayLength() > 0);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Analyze_gives_a_clear_error_for_a_file_that_is_not_a_capture_or_is_cut_short()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synack-an-{Guid.NewGuid():N}.txt");
        try
        {
            File.WriteAllText(path, "hello, this is not a capture");
            var (exit, _, err) = Run("analyze", path);
            Assert.Equal(1, exit);
            Assert.Contains("not a pcap or pcapng file", err);

            Run("demo", "--scenario", "combined-fin", "--capture", path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..(bytes.Length - 40)]);
            var (cut, text, err2) = Run("analyze", path);
            Assert.Equal(1, cut);
            Assert.Contains("truncated", err2);
            Assert.Contains("stream 0", text); // what came before the damage is still shown
            var (missing, _, err3) = Run("analyze", path + ".nope");
            Assert.Equal(2, missing);
            Assert.Contains("no such file", err3);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
