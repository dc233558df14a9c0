using System.Text.Json;

namespace Synack.Cli.Tests;

public class ConformanceCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    private const string Passing = """
        --tolerance_usecs=10000
        0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
        +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
        +0 > S 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>
        """;

    private static string ScriptDirectory(params (string Name, string Text)[] scripts)
    {
        var dir = Path.Combine(Path.GetTempPath(), "synack-conformance-" + Guid.NewGuid().ToString("N"));
        foreach (var (name, text) in scripts)
        {
            var path = Path.Combine(dir, name);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text);
        }
        return dir;
    }

    [Fact]
    public void Prints_one_line_per_script_and_a_summary_and_exits_0_when_nothing_failed()
    {
        var dir = ScriptDirectory(("a/syn.pkt", Passing), ("b/fastopen.pkt", "0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 setsockopt(3, IPPROTO_TCP, TCP_FASTOPEN, [1], 4) = 0\n"));
        try
        {
            var (exit, output, _) = Run("conformance", dir);
            Assert.Equal(0, exit);
            Assert.Contains("pass        a/syn.pkt", output);
            Assert.Contains("unsupported b/fastopen.pkt: TCP fast open", output);
            Assert.Contains("a  1 passed, 0 failed, 0 unsupported", output); // per directory
            Assert.Contains("b  0 passed, 0 failed, 1 unsupported", output);
            Assert.Contains("2 scripts: 1 passed, 0 failed, 1 unsupported", output);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void Json_lists_every_script_with_path_result_line_expected_actual_reason_and_exits_1_on_a_failure()
    {
        var dir = ScriptDirectory(("ok.pkt", Passing), ("bad.pkt", Passing.Replace("wscale 6", "wscale 7", StringComparison.Ordinal)));
        try
        {
            var (exit, output, _) = Run("conformance", dir, "--format", "json");
            Assert.Equal(1, exit);
            using var doc = JsonDocument.Parse(output);
            var scripts = doc.RootElement.GetProperty("scripts").EnumerateArray().ToList();
            Assert.Equal(2, scripts.Count);
            var bad = scripts.Single(s => s.GetProperty("path").GetString() == "bad.pkt");
            Assert.Equal("fail", bad.GetProperty("result").GetString());
            Assert.Equal(5, bad.GetProperty("line").GetInt32());
            Assert.Contains("wscale 7", bad.GetProperty("expected").GetString());
            Assert.Contains("wscale 6", bad.GetProperty("actual").GetString());
            Assert.Contains("options", bad.GetProperty("reason").GetString());
            var summary = doc.RootElement.GetProperty("summary");
            Assert.Equal(1, summary.GetProperty("passed").GetInt32());
            Assert.Equal(1, summary.GetProperty("failed").GetInt32());
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void One_script_can_be_run_with_a_transcript()
    {
        var dir = ScriptDirectory(("bad.pkt", Passing.Replace("wscale 6", "wscale 7", StringComparison.Ordinal)));
        try
        {
            var (exit, output, _) = Run("conformance", Path.Combine(dir, "bad.pkt"), "--verbose");
            Assert.Equal(1, exit);
            Assert.Contains("fail        bad.pkt:5: options", output);
            Assert.Contains("| 0.000 s   line 4: connect(3, ..., ...)", output); // the transcript of what happened
            Assert.Contains("sent 0.000 s > S ", output);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void One_script_can_be_captured_to_pcapng_with_its_lines_as_comments()
    {
        var dir = ScriptDirectory(("syn.pkt", Passing + "\n+0.1 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>\n+0 > . 1:1(0) ack 1 win 65535\n"));
        var pcap = Path.Combine(dir, "syn.pcapng");
        try
        {
            var (exit, output, _) = Run("conformance", Path.Combine(dir, "syn.pkt"), "--capture", pcap);
            Assert.Equal(0, exit);
            var capture = Synack.Wire.CaptureReader.Read(pcap);
            Assert.Null(capture.Error);
            Assert.Equal(3, capture.Packets.Count); // our SYN, the script's SYN-ACK, our ACK
            var (exit2, _, err) = Run("conformance", dir, "--capture", pcap);
            Assert.Equal(2, exit2);
            Assert.Contains("one script", err);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void A_missing_directory_is_a_clear_error()
    {
        var (exit, _, err) = Run("conformance", "/no/such/dir");
        Assert.Equal(2, exit);
        Assert.Contains("no such directory", err);
    }
}
