namespace Synack.Conformance.Tests;

public class ParserTests
{
    private static string SuiteDirectory() => Locations.SuiteDirectory();

    [SkippableFact]
    public void Every_script_of_the_shared_suite_parses()
    {
        var suite = SuiteDirectory();
        var files = Directory.GetFiles(suite, "*.pkt", SearchOption.AllDirectories);
        Assert.True(files.Length > 500, $"{files.Length} scripts");
        var failures = new List<string>();
        int events = 0;
        foreach (var f in files)
        {
            try
            {
                events += PacketdrillParser.ParseFile(f).Events.Count;
            }
            catch (ScriptParseException ex)
            {
                failures.Add(ex.Message);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures.Take(20)));
        Assert.True(events > 10_000, $"{events} events");
    }

    [Fact]
    public void Events_options_and_ifdef_branches_are_read()
    {
        var script = PacketdrillParser.Parse("""
            --ip_version=ipv4
            // a comment
             0.00 `sysctl -w net.inet.tcp.rfc1323=1`
            +0.00 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            #ifdef STANDARD
            +0.10 < S 0:0(0) win 65535 <mss 1460>
            #else
            +0.10 < S 0:0(0) win 1 <mss 536>
            #endif
            * > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,wscale 6>
            +0.00...0.20 close(3) = 0
            +0.00 %{ assert tcpi_state == TCPI_CLOSED }%
            """, "inline.pkt");
        Assert.Equal("ipv4", script.Options["ip_version"]);
        Assert.Equal([EventKind.Command, EventKind.SystemCall, EventKind.Inbound, EventKind.Outbound, EventKind.SystemCall, EventKind.Python], script.Events.Select(e => e.Kind));
        Assert.Contains("win 65535", script.Events[2].Text);  // the STANDARD branch
        Assert.True(script.Events[3].Time.Any);
        Assert.Equal(0.20, script.Events[4].Time.UpTo);
        Assert.True(script.Events[1].Time.Relative);
        Assert.Equal(6, script.Events[2].Line);
    }

    [Theory]
    [InlineData("+0.00 frobnicate the socket", 1, "not a packet")]
    [InlineData("+0.00 `sysctl -w x=1", 1, "unterminated")]
    [InlineData("hello", 1, "expected a time")]
    [InlineData("#ifdef STANDARD\n+0.00 close(3) = 0", 2, "#ifdef without #endif")]
    [InlineData("// fine\n+0.00 > Q 0:0(0)", 2, "malformed packet")]
    [InlineData("#endif", 1, "#endif without #ifdef")]
    public void A_malformed_script_gives_the_file_and_the_line(string text, int line, string message)
    {
        var ex = Assert.Throws<ScriptParseException>(() => PacketdrillParser.Parse(text, "bad.pkt"));
        Assert.Equal(line, ex.Line);
        Assert.StartsWith($"bad.pkt:{line}: ", ex.Message);
        Assert.Contains(message, ex.Message);
    }
}
