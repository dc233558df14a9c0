using Synack.Scenarios;
using Synack.Simulation;
using Synack.Tests.Shared;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>S9: every exchange can be captured to a file that tshark opens, and tshark agrees with us.</summary>
public class CaptureTests
{
    private static string Capture(BareRun sim)
    {
        var path = Path.Combine(Path.GetTempPath(), $"synack-{Guid.NewGuid():N}.pcapng");
        using (var f = File.Create(path)) CaptureExport.Write(sim.Trace, f);
        return path;
    }

    private static string[][] Fields(string file, params string[] fields)
    {
        var tshark = ExternalTool.Require("tshark", "tshark");
        var args = new List<string> { "-r", file, "-n", "-T", "fields", "-E", "separator=/t" };
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        return ExternalTool.Run(tshark, args.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
    }

    [SkippableFact]
    public void Tshark_reads_the_demo_capture_with_the_handshake_options_and_no_retransmission()
    {
        var file = Capture(ScenarioCatalog.HandshakeDataClose());
        try
        {
            var rows = Fields(file, "tcp.flags.str", "tcp.seq", "tcp.ack", "tcp.len", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.analysis.retransmission", "tcp.checksum.status", "frame.comment");
            Assert.Equal(11, rows.Length);
            Assert.Equal("1460", rows[0][4]);
            Assert.Equal("3", rows[0][5]);
            Assert.NotEqual("", rows[0][6]);
            Assert.All(rows, r => Assert.Equal("", r[7]));
            // tshark's relative numbers are ours: the client's data at 1, the server's ACK of it at 101.
            Assert.Equal(["1", "1", "100"], rows[3][1..4]);
            Assert.Equal(["1", "101", "0"], rows[4][1..4]);
            Assert.Contains("client: ESTABLISHED -> FIN-WAIT-1", string.Join(" ", rows.Select(r => r[9])));
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void On_a_lossy_link_tshark_sees_exactly_the_retransmissions_the_trace_recorded()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        var rng = new Random(11);
        sim.Link.Drop(s => s.Length > 0 && rng.NextDouble() < 0.1, int.MaxValue);
        sim.Client.Send(40_000);
        sim.Server.Send(40_000, (byte)'A');
        sim.RunFor(TimeSpan.FromMinutes(2));
        Assert.Equal(40_000, sim.Server.ReceivedCount);
        Assert.Equal(40_000, sim.Client.ReceivedCount);

        // Ours, by Wireshark's definition: data that starts below the highest byte that side had sent.
        var highest = new Dictionary<string, SeqNum>();
        var ours = new List<int>();
        int frame = 0;
        foreach (var e in sim.Trace.Entries)
        {
            if (e.Kind != TraceKind.Sent) continue;
            frame++;
            var s = e.Segment!;
            if (s.Length == 0) continue;
            var end = s.Seq + s.Length;
            if (highest.TryGetValue(s.From, out var h) && s.Seq < h) ours.Add(frame);
            if (!highest.ContainsKey(s.From) || end > highest[s.From]) highest[s.From] = end;
        }
        var file = Capture(sim);
        try
        {
            var rows = Fields(file, "frame.number", "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission");
            var theirs = rows.Where(r => r[1] != "" || r[2] != "" || r[3] != "").Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.NotEmpty(ours);
            Assert.Equal(ours, theirs);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void The_pcapng_file_has_a_section_an_interface_per_endpoint_and_a_block_per_packet()
    {
        var sim = ScenarioCatalog.CombinedFin();
        using var ms = new MemoryStream();
        CaptureExport.Write(sim.Trace, ms);
        var bytes = ms.ToArray();
        var types = new List<uint>();
        for (int off = 0; off < bytes.Length;)
        {
            uint type = BitConverter.ToUInt32(bytes, off);
            uint len = BitConverter.ToUInt32(bytes, off + 4);
            Assert.Equal(len, BitConverter.ToUInt32(bytes, off + (int)len - 4)); // trailing length matches
            Assert.Equal(0u, len % 4);
            types.Add(type);
            off += (int)len;
        }
        Assert.Equal(0x0A0D0D0Au, types[0]);
        Assert.Equal(2, types.Count(t => t == 1));
        Assert.Equal(sim.Trace.Sent().Count(), types.Count(t => t == 6));
    }
}

public class StackCaptureTests
{
    /// <summary>The demo on the real stack with random loss: tshark's retransmissions are the ones the trace resent.</summary>
    [SkippableFact]
    public void On_the_stack_engine_with_random_loss_tshark_sees_the_retransmissions_the_trace_recorded()
    {
        var scenario = ScenarioCatalog.Find("half-close")!;
        var run = StackRun.ForScenario(scenario, new Synack.Simulation.LinkConditions { Loss = 0.25, Latency = TimeSpan.FromMilliseconds(10), Seed = 5 });
        scenario.Body(run);
        var highest = new Dictionary<string, Synack.Wire.SeqNum>();
        var ours = new List<int>();
        int frame = 0;
        foreach (var e in run.Trace.Entries)
        {
            if (e.Kind != TraceKind.Sent) continue;
            frame++;
            var s = e.Segment!;
            int len = s.Length + (s.Has(Synack.Wire.TcpFlags.Fin) ? 1 : 0);
            if (len == 0) continue;
            if (highest.TryGetValue(s.From, out var h) && s.Seq < h) ours.Add(frame);
            var end = s.Seq + len;
            if (!highest.ContainsKey(s.From) || end > highest[s.From]) highest[s.From] = end;
        }
        var file = Path.Combine(Path.GetTempPath(), $"synack-{Guid.NewGuid():N}.pcapng");
        using (var f = File.Create(file)) CaptureExport.Write(run.Trace, f);
        try
        {
            var tshark = ExternalTool.Require("tshark", "tshark");
            var rows = ExternalTool.Run(tshark, "-r", file, "-n", "-T", "fields", "-e", "frame.number", "-e", "tcp.analysis.retransmission", "-e", "tcp.analysis.fast_retransmission")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
            var theirs = rows.Where(r => r[1] != "" || r[2] != "").Select(r => int.Parse(r[0], System.Globalization.CultureInfo.InvariantCulture)).ToList();
            Assert.Contains(run.Trace.Entries, e => e.Kind == TraceKind.Dropped);
            Assert.NotEmpty(ours);
            Assert.Equal(ours, theirs);
        }
        finally
        {
            File.Delete(file);
        }
    }
}

public class CaptureReaderAgainstToolsTests
{
    /// <summary>Files written by Wireshark's own editcap (pcap in µs and ns) read back the same as our pcapng.</summary>
    [SkippableFact]
    public void Files_written_by_editcap_read_the_same_as_ours()
    {
        var editcap = ExternalTool.Require("editcap", "wireshark-common");
        var sim = ScenarioCatalog.LostFinalAck();
        var ng = Path.Combine(Path.GetTempPath(), $"synack-{Guid.NewGuid():N}.pcapng");
        var us = Path.ChangeExtension(ng, ".us.pcap");
        var ns = Path.ChangeExtension(ng, ".ns.pcap");
        try
        {
            using (var f = File.Create(ng)) CaptureExport.Write(sim.Trace, f);
            ExternalTool.Run(editcap, "-F", "pcap", ng, us);
            ExternalTool.Run(editcap, "-F", "nsecpcap", ng, ns);
            var ours = Synack.Wire.CaptureReader.Read(ng);
            foreach (var path in new[] { us, ns })
            {
                var theirs = Synack.Wire.CaptureReader.Read(path);
                Assert.Null(theirs.Error);
                Assert.Equal("pcap", theirs.Format);
                Assert.Equal(ours.Packets.Count, theirs.Packets.Count);
                for (int i = 0; i < ours.Packets.Count; i++)
                {
                    Assert.Equal(ours.Packets[i].Data, theirs.Packets[i].Data);
                    long tolerance = path == us ? 1000 : 0; // microsecond pcap rounds to the microsecond
                    Assert.InRange(theirs.Packets[i].TimestampNs, ours.Packets[i].TimestampNs - tolerance, ours.Packets[i].TimestampNs + tolerance);
                }
            }
        }
        finally
        {
            foreach (var p in new[] { ng, us, ns }) File.Delete(p);
        }
    }
}
