using Synack.Tcp;

namespace Synack.Conformance.Tests;

/// <summary>The interpreter itself: it passes what holds, and fails, at the right line, what does not.</summary>
public class RunnerTests
{
    private const string Listen = """
        --profile=synack-no-quickack
        --tolerance_usecs=2000
        0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0 bind(3, ..., ...) = 0
        +0 listen(3, 1) = 0
        +0 < S 0:0(0) win 65535 <mss 1460,sackOK,eol,eol>
        +0 > S. 0:0(0) ack 1 win 65535 <mss 1460,nop,nop,sackOK>
        +0.010 < . 1:1(0) ack 1 win 65535
        +0 accept(3, ..., ...) = 4

        """;

    private static ScriptResult Run(string text, ConnectionOptions? profile = null) =>
        PacketdrillRunner.Run(PacketdrillParser.Parse(text, "inline.pkt"), profile);

    private static int LineOf(string text, string fragment) =>
        text.Split('\n').Select((l, i) => (l, i)).First(x => x.l.Contains(fragment, StringComparison.Ordinal)).i + 1;

    [Fact]
    public void A_script_that_holds_passes()
    {
        var r = Run(Listen + "+0.100 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 65535\n");
        Assert.Equal(ScriptOutcome.Pass, r.Result);
    }

    [Fact]
    public void A_wrong_sequence_number_fails_at_its_line_with_both_packets()
    {
        var text = Listen + "+0.100 close(4) = 0\n+0 > F. 2:2(0) ack 1 win 65535\n";
        var r = Run(text);
        Assert.Equal(ScriptOutcome.Fail, r.Result);
        Assert.Equal(LineOf(text, "> F. 2:2"), r.Line);
        Assert.Contains("sequence number 1 instead of 2", r.Reason);
        Assert.Contains("> F. 2:2(0)", r.Expected);
        Assert.Contains("> F. 1:1(0) ack 1", r.Actual);
    }

    [Fact]
    public void A_packet_outside_the_time_tolerance_fails()
    {
        var text = Listen + "+0.100 close(4) = 0\n+0.010 > F. 1:1(0) ack 1 win 65535\n";
        var r = Run(text);
        Assert.Equal(ScriptOutcome.Fail, r.Result);
        Assert.Contains("sent at 0.110 s, expected at 0.120 s", r.Reason);
    }

    [Fact]
    public void A_packet_the_stack_never_sends_fails()
    {
        var text = Listen + "+0.100 < P. 1:11(10) ack 1 win 65535\n+0.001 > . 1:1(0) ack 11 win 65535\n";
        var r = Run(text); // our ACK is delayed 40 ms, not 1 ms
        Assert.Equal(ScriptOutcome.Fail, r.Result);
        Assert.Equal(LineOf(text, "ack 11 win"), r.Line);
        Assert.Contains("nothing sent by 0.113 s", r.Actual);
    }

    [Fact]
    public void A_packet_the_script_does_not_expect_fails_at_the_next_line()
    {
        var text = Listen + "+0.100 < P. 1:11(10) ack 1 win 65535\n+1.000 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0\n";
        var r = Run(text); // the delayed ACK went out at +40 ms and no line took it
        Assert.Equal(ScriptOutcome.Fail, r.Result);
        Assert.Equal(LineOf(text, "SO_ERROR"), r.Line);
        Assert.Contains("unexpected packet", r.Reason);
        Assert.Contains("ack 11", r.Actual);
    }

    [Fact]
    public void A_wrong_system_call_result_fails()
    {
        var r = Run(Listen + "+0 recv(4, ..., 100, 0) = 5\n");
        Assert.Equal(ScriptOutcome.Fail, r.Result); // nothing to read on a blocking socket: it never returns
        var nb = Run(Listen + "+0 fcntl(4, F_SETFL, O_RDWR | O_NONBLOCK) = 0\n+0 recv(4, ..., 100, 0) = 5\n");
        Assert.Equal(ScriptOutcome.Fail, nb.Result);
        Assert.Equal("-1 EWOULDBLOCK", nb.Actual);
    }

    [Fact]
    public void A_blocking_call_returns_when_its_data_arrives()
    {
        var r = Run(Listen + "+0 recv(4, ..., 100, 0) = 10\n+0 < P. 1:11(10) ack 1 win 65535\n");
        Assert.Equal(ScriptOutcome.Pass, r.Result);
    }

    [Fact]
    public void Absolute_and_any_sequence_numbers_are_understood()
    {
        // A SYN to a port nobody listens on: RST+ACK at absolute 0 (RFC 9293 3.10.7.1).
        var closed = Run("""
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 < S 100:100(0) win 65535 <mss 1460,sackOK,eol,eol>
            +0 > R. 0:0(0)! ack 101 win 0
            """);
        Assert.Equal(ScriptOutcome.Pass, closed.Result);
        var wrong = Run("""
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 < S 100:100(0) win 65535 <mss 1460,sackOK,eol,eol>
            +0 > R. 1:1(0)! ack 101 win 0
            """);
        Assert.Equal(ScriptOutcome.Fail, wrong.Result);
        var any = Run(Listen.Replace("> S. 0:0(0) ack 1", "> S. ...(0) ack 1", StringComparison.Ordinal) + "+0.100 close(4) = 0\n+0 > F. 1:1(0) ack 1 win 65535\n");
        Assert.Equal(ScriptOutcome.Pass, any.Result);
    }

    [Fact]
    public void A_blocking_connect_returns_within_its_time_range_while_the_script_goes_on()
    {
        var text = """
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            0.000...0.100 connect(3, ..., ...) = 0
            +0 > S 0:0(0) win 65535 <...>
            +0.100 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>
            +0 > . 1:1(0) ack 1 win 65535
            """;
        Assert.Equal(ScriptOutcome.Pass, Run(text, ConnectionOptions.FreeBsd).Result);
        var late = Run(text.Replace("0.000...0.100", "0.000...0.050", StringComparison.Ordinal), ConnectionOptions.FreeBsd);
        Assert.Equal(ScriptOutcome.Fail, late.Result);
        Assert.Contains("returned at 0.100 s", late.Reason);
    }

    [Fact]
    public void Linger_zero_makes_close_an_abort()
    {
        var r = Run(Listen + "+0 setsockopt(4, SOL_SOCKET, SO_LINGER, {onoff=1, linger=0}, 8) = 0\n+0.1 close(4) = 0\n+0 > R. 1:1(0) ack 1 win 0\n");
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Reason} {r.Actual}");
    }

    [Fact]
    public void With_timestamps_agreed_a_segment_without_one_is_dropped_under_bsd_rules_and_taken_under_linux_ones()
    {
        var text = """
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
            +0 bind(3, ..., ...) = 0
            +0 listen(3, 1) = 0
            +0 < S 0:0(0) win 65535 <mss 1460,nop,wscale 2,nop,nop,TS val 100 ecr 0>
            +0 > S. 0:0(0) ack 1 win 65535 <...>
            +0.01 < . 1:1(0) ack 1 win 65535 <nop,nop,TS val 110 ecr 100>
            +0 accept(3, ..., ...) = 4
            +0 fcntl(4, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0.1 < . 1:11(10) ack 1 win 65535
            +0.1 recv(4, ..., 100, 0) = -1 EAGAIN (Resource temporarily unavailable)
            """;
        Assert.Equal(ScriptOutcome.Pass, Run(text, ConnectionOptions.FreeBsd).Result);
        var linux = Run(text, ConnectionOptions.Default);
        Assert.Equal(ScriptOutcome.Fail, linux.Result); // taken, and acked
    }

    [Fact]
    public void Ecn_is_negotiated_marked_echoed_and_answered()
    {
        var text = """
            0.000 `sysctl -w net.inet.tcp.ecn.enable=1`
            +0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
            +0 > SEW 0:0(0) win 65535 <mss 1460,nop,wscale 6,sackOK,TS val 100 ecr 0>
            +0.1 < SE. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,eol,eol>
            +0 > . 1:1(0) ack 1 win 65535
            +0 write(3, ..., 1000) = 1000
            +0 >[ect0] P. 1:1001(1000) ack 1 win 65535
            // A router marked the peer's data: we echo ECE on our ACKs until the peer says CWR.
            +0.1 <[ce] P. 1:101(100) ack 1001 win 65535
            +0.04 >[noecn] E. 1001:1001(0) ack 101 win 65535
            +0.1 <[ect0] PW. 101:201(100) ack 1001 win 65535
            +0.04 > . 1001:1001(0) ack 201 win 65500
            // The peer echoes ECE to us: we halve the window and say CWR on the next new data.
            +0.1 < E. 201:201(0) ack 1001 win 65535
            +0 write(3, ..., 100) = 100
            +0 >[ect0] PW. 1001:1101(100) ack 201 win 65500
            """;
        var r = Run(text, ConnectionOptions.FreeBsd);
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}\n{string.Join("\n", r.Transcript)}");
        var off = Run(text.Replace("ecn.enable=1", "ecn.enable=0", StringComparison.Ordinal), ConnectionOptions.FreeBsd);
        Assert.Equal(ScriptOutcome.Fail, off.Result);
        Assert.Contains("flags S instead of SEW", off.Reason);
    }

    [Fact]
    public void Ip_tos_and_ttl_follow_the_socket_and_change_on_an_open_connection()
    {
        var text = """
            --tolerance_usecs=10000
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0 setsockopt(3, IPPROTO_IP, IP_TTL, [4], 4) = 0
            +0 setsockopt(3, IPPROTO_IP, IP_TOS, [IPTOS_DSCP_CS1], 4) = 0
            +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
            +0 > (tos 0x20) (ttl 4) S 0:0(0) win 65535 <...>
            +0.1 < (ttl 3) S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>
            +0 > (tos 0x20) (ttl 4) . 1:1(0) ack 1 win 65535
            +0 setsockopt(3, IPPROTO_IP, IP_TOS, [IPTOS_DSCP_CS7], 4) = 0
            +0 setsockopt(3, IPPROTO_IP, IP_TTL, [6], 4) = 0
            +0 send(3, ..., 100, 0) = 100
            +0 > (tos 0xe0) (ttl 6) P. 1:101(100) ack 1 win 65535
            """;
        var r = Run(text, ConnectionOptions.FreeBsd);
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason} {r.Actual}");
        var wrong = Run(text.Replace("(tos 0xe0) (ttl 6)", "(tos 0x20) (ttl 6)", StringComparison.Ordinal), ConnectionOptions.FreeBsd);
        Assert.Equal(ScriptOutcome.Fail, wrong.Result);
        Assert.Contains("traffic class 0xe0 instead of 0x20", wrong.Reason);
    }

    [Theory]
    [InlineData("unreachable port_unreachable", "[0:0(0)]", "ECONNREFUSED")]   // hard: nobody there
    [InlineData("time_exceeded ttl_exceeded_in_transit", "[0:0(0)]", "EHOSTUNREACH")]
    [InlineData("unreachable host_unreachable", "[0:0(0)]", "0")]              // soft: remembered, not fatal
    [InlineData("unreachable port_unreachable", "[1:1(0)]", "0")]              // quotes nothing outstanding: forged or stale
    public void Icmp_errors_for_our_syn_end_the_connect_only_when_hard_and_quoting_what_is_outstanding(string icmp, string quoted, string soError)
    {
        var text = $"""
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
            +0 > S 0:0(0) win 65535 <...>
            +0.1 < icmp {icmp} {quoted}
            +0.1 getsockopt(3, SOL_SOCKET, SO_ERROR, [{soError}], [4]) = 0
            """;
        var r = Run(text, ConnectionOptions.FreeBsd);
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason} {r.Actual}");
        var ignored = Run(text, ConnectionOptions.FreeBsd with { IcmpAbortsConnect = false });
        Assert.Equal(soError == "0" ? ScriptOutcome.Pass : ScriptOutcome.Fail, ignored.Result);
    }

    [Fact]
    public void A_state_assertion_is_checked()
    {
        var r = Run(Listen + "+0 %{ assert tcpi_state == TCPI_CLOSE_WAIT }%\n");
        Assert.Equal(ScriptOutcome.Fail, r.Result);
        Assert.Equal("tcpi_state = TCPI_ESTABLISHED", r.Actual);
    }

    [Theory]
    [InlineData("+0 setsockopt(3, IPPROTO_TCP, TCP_FASTOPEN, [1], 4) = 0", "fast open")]
    [InlineData("+0 getsockopt(3, IPPROTO_TCP, TCP_INFO, [0], [4]) = 0", "getsockopt TCP_INFO")]
    [InlineData("+0 > S 0:0(0) win 65535 <mss 1452>/udp(9811 > 1)", "UDP")]
    [InlineData("+0 `kldload tcpmd5`", "shell command")]
    [InlineData("+0 %{ import os }%", "Python")]
    [InlineData("+0 %{ assert tcpi_no_such_field == 1 }%", "tcpi_no_such_field")]
    public void What_is_out_of_scope_is_reported_unsupported_with_the_reason(string line, string reason)
    {
        var r = Run("0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n" + line + "\n");
        Assert.Equal(ScriptOutcome.Unsupported, r.Result);
        Assert.Contains(reason, r.Reason, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Sysctl_lines_change_the_stack_and_unknown_ones_are_noted()
    {
        var text = """
            0.000 `sysctl -w net.inet.tcp.rfc1323=0`
            +0 `sysctl -w net.inet.tcp.no_such_thing=1`
            +0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
            +0 > S 0:0(0) win 65535 <mss 1460,sackOK,eol,eol>
            """;
        var r = Run(text);
        Assert.Equal(ScriptOutcome.Pass, r.Result);
        Assert.Contains(r.Notes, n => n.Contains("net.inet.tcp.no_such_thing", StringComparison.Ordinal) && n.Contains("unknown", StringComparison.Ordinal));
    }

    [Fact]
    public void A_malformed_script_is_a_failure_with_file_and_line_not_a_crash()
    {
        var path = Path.Combine(Path.GetTempPath(), $"synack-malformed-{Guid.NewGuid():N}.pkt");
        File.WriteAllText(path, "0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n+0 > S 0:zero(0) win 1\n+0 close(3) = 0\n");
        try
        {
            var r = PacketdrillRunner.RunFile(path);
            Assert.Equal(ScriptOutcome.Fail, r.Result);
            Assert.Equal(2, r.Line);
            Assert.Contains("malformed", r.Reason);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void The_profile_decides_bsd_behaviour_the_scripts_check()
    {
        // Simultaneous close: BSD repeats its FIN on the ACK of the peer's FIN; RFC 9293 and Linux send a bare ACK.
        var text = """
            0.000 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 fcntl(3, F_SETFL, O_RDWR | O_NONBLOCK) = 0
            +0 connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)
            +0 > S 0:0(0) win 65535 <...>
            +0.1 < S. 0:0(0) ack 1 win 32767 <mss 1460,sackOK,eol,eol>
            +0 > . 1:1(0) ack 1 win 65535
            +0.1 shutdown(3, SHUT_WR) = 0
            +0 > F. 1:1(0) ack 1 win 65535
            +0.1 < F. 1:1(0) ack 1 win 32767
            +0 > F. 1:1(0) ack 2 win 65535
            """;
        Assert.Equal(ScriptOutcome.Pass, Run(text, ConnectionOptions.FreeBsd).Result);
        var linux = Run(text, ConnectionOptions.Default);
        Assert.Equal(ScriptOutcome.Fail, linux.Result);
    }
}
