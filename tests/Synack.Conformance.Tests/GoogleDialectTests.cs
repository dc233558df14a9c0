using Synack.Tcp;

namespace Synack.Conformance.Tests;

/// <summary>What Google's packetdrill writes that the nplab fork does not, read and run.</summary>
public class GoogleDialectTests
{
    // A connection accepted from a peer with MSS 1000 and SACK, no timestamps, as Google's scripts begin.
    private const string Accepted = """
        `sysctl -q net.ipv4.tcp_timestamps=0`
        0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
        +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
        +0 bind(3, ..., ...) = 0
        +0 listen(3, 1) = 0
        +.1 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
        +0 > S. 0:0(0) ack 1 <mss 1460,nop,nop,sackOK,nop,wscale 7>
        +.1 < . 1:1(0) ack 1 win 320
        +0 accept(3, ..., ...) = 4

        """;

    [Fact]
    public void Times_without_a_leading_zero_blocking_ends_and_windows_are_read()
    {
        var s = PacketdrillParser.Parse("""
            --strict_segments
            --mss=1000
            0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
              +.1...0.200 connect(3, ..., ...) = 0
            +.002 ... 0.004 connect(4, ..., ...) = 0
              +.3~+.400 > F. 1:1(0) ack 1
            +0	< - 1:1001(1000) win 20000
            +0	recvmsg(3, {msg_name(...)=...,
            		    msg_iov(1)=[{..., 1000}],
            		    msg_flags=0}, 0) = 1000
            """, "g.pkt");
        Assert.Equal("", s.Options["strict_segments"]);
        Assert.Equal("1000", s.Options["mss"]);
        var connect = s.Events[1];
        Assert.True(connect.Time.Relative);
        Assert.Equal(0.1, connect.Time.Seconds, 6);
        Assert.Equal(0.2, connect.Time.UpTo!.Value, 6);
        Assert.Equal(0.004, s.Events[2].Time.UpTo!.Value, 6);
        var fin = s.Events[3];
        Assert.Equal(0.3, fin.Time.Seconds, 6);
        Assert.Equal(0.4, fin.Time.Latest!.Value, 6);
        Assert.True(fin.Time.LatestRelative);
        Assert.Equal(EventKind.Inbound, s.Events[4].Kind);
        Assert.Equal(EventKind.SystemCall, s.Events[5].Kind);
        Assert.Contains("msg_flags=0", s.Events[5].Text, StringComparison.Ordinal);
    }

    [Fact]
    public void Python_asserts_chain_comparisons_and_keep_assignments_between_blocks()
    {
        var vars = new Dictionary<string, double>();
        var printed = new List<string>();
        double Field(string n) => n switch { "tcpi_snd_cwnd" => 10, "tcpi_last_data_recv" => 995, _ => throw new KeyNotFoundException(n) };
        Assert.Null(PythonBlock.Parse("%{ LIMIT = 0x7fffffff }%").Run(Field, vars, printed));
        var block = PythonBlock.Parse("""
            %{
            # a comment
            assert 990 <= tcpi_last_data_recv <= 1010, tcpi_last_data_recv
            print(tcpi_snd_cwnd); assert tcpi_snd_cwnd == 10 and LIMIT == 2147483647, \
                tcpi_snd_cwnd
            }%
            """);
        Assert.Null(block.Run(Field, vars, printed));
        Assert.Equal(["10"], printed);
        var failing = PythonBlock.Parse("%{ assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd }%").Run(Field, vars, printed);
        Assert.Equal("assert tcpi_snd_cwnd == 20 failed (10)", failing);
        Assert.Throws<UnsupportedScriptException>(() => PythonBlock.Parse("%{ import socket }%"));
        // Nesting a hostile script could use to exhaust the stack is refused with a reason.
        Assert.Throws<FormatException>(() => PythonBlock.Parse("%{ assert " + new string('(', 100_000) + "1" + new string(')', 100_000) + " }%"));
        Assert.Throws<FormatException>(() => PythonBlock.Parse("%{ assert " + new string('-', 100_000) + "1 }%"));
        Assert.Throws<FormatException>(() => PythonBlock.Parse("%{ assert " + string.Concat(Enumerable.Repeat("2**", 100_000)) + "1 }%"));
    }

    [Fact]
    public void Defaults_sh_maps_linux_sysctls_onto_the_profile_and_refuses_what_it_cannot_do()
    {
        var dir = Directory.CreateTempSubdirectory("synack-defaults-");
        try
        {
            Directory.CreateDirectory(Path.Combine(dir.FullName, "common"));
            File.WriteAllText(Path.Combine(dir.FullName, "common", "defaults.sh"), """
                #!/bin/bash
                ip tcp_metrics flush all > /dev/null 2>&1
                sysctl -q net.ipv4.tcp_rmem="4096 540000 $((15*1024*1024))"
                sysctl -q net.ipv4.tcp_wmem="4096 $((256*1024)) 4194304"
                sysctl -q net.ipv4.tcp_timestamps=0
                sysctl -q net.ipv4.tcp_congestion_control=reno
                sysctl -q net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1
                tc qdisc add dev tun0 root pfifo
                """);
            var scriptDir = Path.Combine(dir.FullName, "t");
            Directory.CreateDirectory(scriptDir);
            ConnectionOptions? saved = null;
            var notes = new List<string>();
            var o = LinuxShell.Apply("`../common/defaults.sh\nsysctl -q net.ipv4.tcp_sack=0`", scriptDir, ConnectionOptions.Linux, notes, ref saved);
            Assert.Equal(540000, o.ReceiveBufferSize);
            Assert.Equal((byte)8, o.WindowScale); // the 15 MiB maximum needs scale 8
            Assert.Equal(256 * 1024, o.SendBufferSize);
            Assert.False(o.Timestamps);
            Assert.False(o.Sack);
            Assert.Equal(CongestionControlAlgorithm.NewReno, o.CongestionControl);
            Assert.True(o.TailLossProbe);
            Assert.True(o.Rack); // tcp_recovery=1
            Assert.False(LinuxShell.Apply("`sysctl -q net.ipv4.tcp_recovery=0`", scriptDir, o, notes, ref saved).Rack);
            var e = Assert.Throws<UnsupportedScriptException>(() => LinuxShell.Apply("`tc qdisc replace dev tun0 root fq`", scriptDir, o, notes, ref saved));
            Assert.Contains("tc qdisc replace", e.Message, StringComparison.Ordinal);
            Assert.Throws<UnsupportedScriptException>(() => LinuxShell.Apply("`sysctl -q net.ipv4.tcp_congestion_control=bbr`", scriptDir, o, notes, ref saved));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_burst_the_script_writes_as_one_tso_packet_matches_the_segments_sent_at_that_moment()
    {
        // Linux hands packetdrill one 10,000-byte TSO packet; the stack sends ten 1,000-byte segments at the same instant.
        var r = PacketdrillRunner.Run(PacketdrillParser.Parse(Accepted + """
            +0 write(4, ..., 10000) = 10000
            +0 > P. 1:10001(10000) ack 1
            +.1 < . 1:1(0) ack 10001 win 320
            +0 %{ assert tcpi_snd_cwnd == 20, tcpi_snd_cwnd }%
            """, "tso.pkt"));
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}");
    }

    [Fact]
    public void An_application_limited_sender_does_not_grow_its_window()
    {
        // RFC 7661 as Linux keeps it: five segments out of a window of ten is not using the window.
        var r = PacketdrillRunner.Run(PacketdrillParser.Parse(Accepted + """
            +0 write(4, ..., 5000) = 5000
            +0 > P. 1:5001(5000) ack 1
            +.1 < . 1:1(0) ack 5001 win 320
            +0 %{ assert tcpi_snd_cwnd == 10, tcpi_snd_cwnd }%
            """, "applimited.pkt"));
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}");
    }

    [Fact]
    public void Rack_takes_segments_sent_before_a_sacked_one_as_lost_a_quarter_rtt_later()
    {
        // RFC 8985: one SACK for the last of four segments; reordering not yet seen, so the window
        // is min_rtt / 4 (25 ms of a 100 ms round trip), and Linux arms its timer 2 ms late.
        var r = PacketdrillRunner.Run(PacketdrillParser.Parse(Accepted + """
            +0 write(4, ..., 4000) = 4000
            +0 > P. 1:4001(4000) ack 1
            +.1 < . 1:1(0) ack 1 win 320 <sack 3001:4001,nop,nop>
            +0 %{ assert tcpi_ca_state == TCP_CA_Disorder and tcpi_lost == 0, tcpi_lost }%
            +.027 > . 1:1001(1000) ack 1
            +0 %{ assert tcpi_ca_state == TCP_CA_Recovery and tcpi_lost == 3 and tcpi_retrans == 1, tcpi_lost }%
            // The resent segment is lost again: the next SACK is for data sent after it, so RACK sends it once more.
            +.1 < . 1:1(0) ack 1 win 320 <sack 1001:2001 3001:4001,nop,nop>
            +0 > . 2001:3001(1000) ack 1
            // 2001:3001, resent at 0.427, is SACKed; 1:1001 was resent before it, 200 ms ago: lost at once.
            +.1 < . 1:1(0) ack 1 win 320 <sack 1001:4001,nop,nop>
            +0 > . 1:1001(1000) ack 1
            +.1 < . 1:1(0) ack 4001 win 320
            +0 %{ assert tcpi_ca_state == TCP_CA_Open and tcpi_lost == 0 and tcpi_snd_cwnd == 7, tcpi_snd_cwnd }%
            """, "rack.pkt"));
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}\n" + string.Join("\n", r.Transcript));
    }

    [Fact]
    public void Reordering_once_seen_is_remembered_in_tcpi_reordering()
    {
        var r = PacketdrillRunner.Run(PacketdrillParser.Parse(Accepted + """
            +0 write(4, ..., 10000) = 10000
            +0 > P. 1:10001(10000) ack 1
            +.1 < . 1:1(0) ack 1 win 320 <sack 8001:9001,nop,nop>
            // 2001:3001 was never resent and arrives below 9001: seven segments out of order.
            +.001 < . 1:1(0) ack 1 win 320 <sack 2001:3001 8001:9001,nop,nop>
            +0 %{ assert tcpi_reordering == 7, tcpi_reordering }%
            """, "reordering.pkt"));
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}");
    }

    [Fact]
    public void Tcp_congestion_and_linuxs_doubled_receive_buffer_are_set_and_read_back()
    {
        var r = PacketdrillRunner.Run(PacketdrillParser.Parse("""
            `sysctl -q net.ipv4.tcp_timestamps=0`
            0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", 4) = 0
            +0 getsockopt(3, SOL_TCP, TCP_CONGESTION, "reno", [4]) = 0
            +0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [65536], 4) = 0
            +0 getsockopt(3, SOL_SOCKET, SO_RCVBUF, [131072], [4]) = 0
            +0 setsockopt(3, SOL_TCP, TCP_CONGESTION, "bbr", 4) = 0
            """, "cc.pkt"));
        Assert.Equal(ScriptOutcome.Unsupported, r.Result); // bbr is not here, and says so
        Assert.Contains("bbr", r.Reason, StringComparison.Ordinal);
    }
}
