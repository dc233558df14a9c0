using Synack.Scenarios;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Tests.Shared;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>The analyzer reads our own captures, where the truth is known from the trace.</summary>
public class AnalysisTests
{
    private static IReadOnlyList<Conversation> Analyze(BareRun sim)
    {
        using var ms = new MemoryStream();
        CaptureExport.Write(sim.Trace, ms);
        var capture = CaptureReader.Read(ms.ToArray());
        Assert.Null(capture.Error);
        return CaptureAnalyzer.Analyze(capture);
    }

    private static List<string> Distinct(IEnumerable<TcpState> states)
    {
        var list = new List<string>();
        foreach (var s in states)
        {
            var name = ((TcpState)(int)s).ToRfcName();
            if (list.Count == 0 || list[^1] != name) list.Add(name);
        }
        return list;
    }

    [Theory]
    [InlineData("handshake-data-close", "four-way", "SF")]
    [InlineData("combined-fin", "three-way", "SF")]
    [InlineData("half-close", "four-way", "SF")]
    [InlineData("simultaneous-close", "simultaneous", "SF")]
    [InlineData("lost-third-ack", "reset", "RSTR")]
    public void Inferred_states_and_close_kind_match_what_really_happened(string scenario, string closeKind, string connState)
    {
        var sim = ScenarioCatalog.Find(scenario)!.RunBare();
        var conv = Assert.Single(Analyze(sim));
        Assert.Equal(closeKind, conv.CloseKind);
        Assert.Equal(connState, conv.ConnState);
        Assert.Equal("192.0.2.1:40000", conv.Client);
        Assert.Equal(ScenarioCatalog.ClientIsn, conv.ClientIsn);
        Assert.Equal(ScenarioCatalog.ServerIsn, conv.ServerIsn);
        if (closeKind == "reset") return;
        // The truth, less what a capture cannot see: the server's CLOSED before LISTEN, and 2MSL's end.
        var truthClient = sim.Trace.StatesOf("client").Select(s => s.ToRfcName()).ToList();
        var truthServer = sim.Trace.StatesOf("server").Select(s => s.ToRfcName()).Skip(1).ToList();
        if (truthClient[^1] == "CLOSED" && truthClient[^2] == "TIME-WAIT") truthClient.RemoveAt(truthClient.Count - 1);
        if (truthServer[^1] == "CLOSED" && truthServer[^2] == "TIME-WAIT") truthServer.RemoveAt(truthServer.Count - 1);
        Assert.Equal(truthClient, Distinct(new[] { TcpState.Closed }.Concat(conv.Packets.Select(p => p.ClientState))));
        Assert.Equal(truthServer, Distinct(new[] { TcpState.Listen }.Concat(conv.Packets.Select(p => p.ServerState))));
    }

    [Fact]
    public void Relative_and_absolute_numbers_follow_the_notes_example()
    {
        var conv = Assert.Single(Analyze(ScenarioCatalog.HandshakeDataClose()));
        var data = conv.Packets.First(p => p.FromClient && p.Length == 100);
        Assert.Equal(1, data.Seq);
        Assert.Equal(123457u, data.SeqRaw);
        var ack = conv.Packets.First(p => !p.FromClient && p.Ack == 101);
        Assert.Equal(123557u, ack.AckRaw);
        Assert.Equal(100, conv.ClientBytes);
        Assert.Equal(100, conv.ServerBytes);
        Assert.Equal(20, conv.HandshakeRttMs!.Value, 3); // SYN at 0, the handshake's ACK at 20 ms
        Assert.Equal(1460, conv.ClientOptions!.Mss);
        Assert.Equal(3, conv.ClientOptions.WindowScale);
        Assert.Contains('S', conv.History);
        Assert.Contains('h', conv.History);
    }

    [SkippableFact]
    public void Stream_numbers_relative_numbers_lengths_and_retransmissions_agree_with_tshark()
    {
        var scenario = ScenarioCatalog.Find("half-close")!;
        var run = StackRun.ForScenario(scenario, new Synack.Simulation.LinkConditions { Loss = 0.25, Latency = TimeSpan.FromMilliseconds(10), Seed = 5 });
        scenario.Body(run);
        var file = Path.Combine(Path.GetTempPath(), $"synack-an-{Guid.NewGuid():N}.pcapng");
        using (var f = File.Create(file)) CaptureExport.Write(run.Trace, f);
        try
        {
            var tshark = ExternalTool.Require("tshark", "tshark");
            int n = Synack.Tests.Shared.TsharkCompare.Compare(tshark, file, ExternalTool.Run);
            Assert.True(n > 10, $"{n} packets");
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public class ReusedPortsTests
{
    /// <summary>The same 4-tuple twice, a new ISN the second time: two streams, the second SYN flagged, as tshark does.</summary>
    [SkippableFact]
    public void A_new_syn_on_a_used_tuple_starts_a_new_stream_and_is_flagged()
    {
        var sim = new BareRun(ScenarioCatalog.NoteOptions, ScenarioCatalog.NoteOptions);
        sim.Server.CloseOnEndOfStream = true;
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Close();
        sim.RunUntilIdle();
        sim.RunFor(TimeSpan.FromSeconds(5)); // the RFC 6528 clock moves on: a new ISN
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        var file = Path.Combine(Path.GetTempPath(), $"synack-reuse-{Guid.NewGuid():N}.pcapng");
        using (var f = File.Create(file)) CaptureExport.Write(sim.Trace, f);
        try
        {
            var conversations = CaptureAnalyzer.Analyze(CaptureReader.Read(file));
            Assert.Equal(2, conversations.Count);
            Assert.Contains("reused_ports", conversations[1].Packets[0].Findings);
            Assert.DoesNotContain("reused_ports", conversations[0].Packets[0].Findings);
            var tshark = ExternalTool.Require("tshark", "tshark");
            Synack.Tests.Shared.TsharkCompare.Compare(tshark, file, ExternalTool.Run);
        }
        finally
        {
            File.Delete(file);
        }
    }

    /// <summary>
    /// A reset injected before the server's SYN-ACK (Zeek's tcp_rst-inject-rae trace): the server's
    /// numbers are first guessed from the reset, then its SYN-ACK brings its ISN — flagged as a new
    /// session on the same ports, and the ISN is the base from then on, as tshark numbers it.
    /// </summary>
    [SkippableFact]
    public void A_syn_ack_after_an_injected_reset_numbers_the_server_from_its_isn()
    {
        var client = IpAddr.Parse("192.0.2.1");
        var server = IpAddr.Parse("192.0.2.2");
        byte[] FromServer(TcpFlags f, uint seq, uint ack, int payload = 0) => EncapsulationTests.Segment(f, seq, ack, payload, server, client, 80, 40000);
        var file = Path.Combine(Path.GetTempPath(), $"synack-rae-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(file, EncapsulationTests.Pcap(101,
        [
            EncapsulationTests.Segment(TcpFlags.Syn, 1000, 0),
            FromServer(TcpFlags.Rst | TcpFlags.Ack, 0, 1000),         // injected: seq 0
            FromServer(TcpFlags.Syn | TcpFlags.Ack, 5000, 1001),      // the real answer
            EncapsulationTests.Segment(TcpFlags.Ack, 1001, 5001),
            EncapsulationTests.Segment(TcpFlags.Ack | TcpFlags.Psh, 1001, 5001, payload: 25),
            FromServer(TcpFlags.Ack, 5001, 1026),
        ]));
        try
        {
            var c = Assert.Single(CaptureAnalyzer.Analyze(CaptureReader.Read(file)));
            Assert.Equal(["reused_ports"], c.Packets[2].Findings);
            Assert.Equal(0, c.Packets[2].Seq);
            Assert.Equal(1, c.Packets[3].Ack);   // the client's ACK of the SYN-ACK
            Assert.Equal(1, c.Packets[5].Seq);   // the server's first byte
            var tshark = ExternalTool.Require("tshark", "tshark");
            Synack.Tests.Shared.TsharkCompare.Compare(tshark, file, ExternalTool.Run);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

/// <summary>Captures that begin mid-conversation, or hear one side only.</summary>
public class MidStreamTests
{
    /// <summary>
    /// One-byte segments from a side whose peer was never heard (Zeek's tunnel-direct-bypass trace): no
    /// window was ever closed, so none of them is a zero-window probe, and none leaves a gap behind it.
    /// </summary>
    [Fact]
    public void One_byte_segments_to_a_peer_never_heard_are_not_zero_window_probes()
    {
        var frames = Enumerable.Range(1, 6).Select(i => EncapsulationTests.Segment(TcpFlags.Ack | TcpFlags.Psh, (uint)i, 0, payload: 1)).ToArray();
        var file = EncapsulationTests.Pcap(101, frames);
        var c = Assert.Single(CaptureAnalyzer.Analyze(CaptureReader.Read(file).Packets));
        Assert.Equal([1L, 2, 3, 4, 5, 6], c.Packets.Select(p => p.Seq));
        Assert.All(c.Packets, p => Assert.Empty(p.Findings));
    }

    /// <summary>
    /// ACKs of data the capture missed, while the sender only acknowledges: tshark 4.0 says so once per
    /// stall, not on every ACK (Zeek's erspan and ftp traces), and again once the sender acknowledges
    /// something new.
    /// </summary>
    [SkippableFact]
    public void An_ack_of_unseen_data_is_flagged_once_while_the_sender_is_stalled()
    {
        var client = IpAddr.Parse("192.0.2.1");
        var server = IpAddr.Parse("192.0.2.2");
        byte[] FromServer(TcpFlags f, uint seq, uint ack, int payload = 0) => EncapsulationTests.Segment(f, seq, ack, payload, server, client, 80, 40000);
        byte[] FromClient(TcpFlags f, uint seq, uint ack, int payload = 0) => EncapsulationTests.Segment(f, seq, ack, payload);
        var file = Path.Combine(Path.GetTempPath(), $"synack-acklost-{Guid.NewGuid():N}.pcap");
        File.WriteAllBytes(file, EncapsulationTests.Pcap(101,
        [
            FromClient(TcpFlags.Syn, 1000, 0),
            FromServer(TcpFlags.Syn | TcpFlags.Ack, 5000, 1001),
            FromClient(TcpFlags.Ack, 1001, 5001),
            FromServer(TcpFlags.Ack, 5001, 1001, 100),
            FromClient(TcpFlags.Ack, 1001, 5101),
            FromClient(TcpFlags.Ack, 1001, 5201),          // 5101..5200 never captured: flagged
            FromClient(TcpFlags.Ack, 1001, 5301),          // the same stall: not again
            FromClient(TcpFlags.Ack | TcpFlags.Psh, 1001, 5301, 10),
            FromServer(TcpFlags.Ack, 5301, 1011),          // the sender acknowledges something new
            FromClient(TcpFlags.Ack, 1011, 5401),          // flagged again
        ]));
        try
        {
            var c = Assert.Single(CaptureAnalyzer.Analyze(CaptureReader.Read(file)));
            Assert.Equal([5, 9], c.Packets.Select((p, i) => (p, i)).Where(x => x.p.Findings.Contains("ack_lost_segment")).Select(x => x.i));
            var tshark = ExternalTool.Require("tshark", "tshark");
            Synack.Tests.Shared.TsharkCompare.Compare(tshark, file, ExternalTool.Run);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
