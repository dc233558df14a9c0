using Synack.Scenarios;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>
/// Runs a lab request on two bare Synack connections over the simulated link and turns the trace into
/// steps: every event, with both TCBs as they stand just after it and a sentence in the note's terms.
/// </summary>
internal static class LabRun
{
    /// <summary>A run can be long (keep-alive waits minutes of virtual time); the page never gets more events than this.</summary>
    public const int MaxSteps = 5000;

    public static (LabView View, BareRun Run) Run(LabRequest request)
    {
        Scenario scenario = request.Scenario == LabRequest.Composed
            ? new Scenario(LabRequest.Composed, "lab", "a timeline of your own", LabTimeline.Parse(request.Timeline ?? ""))
            : ScenarioCatalog.Find(request.Scenario) ?? throw new LabRequestException($"no scenario named '{request.Scenario}'");
        var (clientOptions, serverOptions) = request.Options(request.Scenario == LabRequest.Composed ? null : scenario);
        var run = ScenarioCatalog.NewNotePair(clientOptions, serverOptions, request.Link);
        if (request.ClientIsn is uint cisn) run.Client.IsnGenerator = new FixedIsnGenerator(cisn);
        if (request.ServerIsn is uint sisn) run.Server.IsnGenerator = new FixedIsnGenerator(sisn);
        var snapshots = new List<(TcbView? Client, TcbView? Server)>();
        run.Trace.Appended += _ =>
        {
            // Past the page's limit the run goes on, but nothing more is kept of it.
            if (snapshots.Count < MaxSteps) snapshots.Add((Tcb(run.Client, run.Clock), Tcb(run.Server, run.Clock)));
        };
        scenario.Body(run);
        return (new LabView(request, scenario.Name, scenario.Note, scenario.Description, Steps(run.Trace, snapshots)), run);
    }

    private static TcbView? Tcb(ScenarioEndpoint endpoint, TimeSpan now)
    {
        if (endpoint is not BareEndpoint { Connection: { } c }) return null;
        var timers = new List<TimerView>();
        foreach (var t in Enum.GetValues<TcpTimer>())
        {
            if (c.TimerDeadline(t) is TimeSpan at) timers.Add(new TimerView(t.ToString(), at.TotalMilliseconds));
        }
        return new TcbView(c.State.ToRfcName(), c.Iss.Value, c.Irs.Value, c.SndUna.Value, c.SndNxt.Value, c.SndWnd,
            c.RcvNxt.Value, c.RcvWnd, c.CongestionWindow, c.SlowStartThreshold, c.Rto.TotalMilliseconds, [.. timers]);
    }

    private static StepView[] Steps(Trace trace, List<(TcbView? Client, TcbView? Server)> snapshots)
    {
        var entries = trace.Entries;
        int count = Math.Min(entries.Count, MaxSteps);
        var steps = new StepView[count];
        var pairs = Pairs(entries, count);
        var narrator = new Narrator();
        for (int i = 0; i < count; i++)
        {
            var e = entries[i];
            var (client, server) = i < snapshots.Count ? snapshots[i] : (null, null);
            var seg = e.Segment is { } s ? View(s, client, server) : null;
            bool isState = e.Kind == TraceKind.StateChanged;
            steps[i] = new StepView(i, e.Time.TotalMilliseconds, e.Kind.ToString(), e.Endpoint, seg,
                isState ? e.From.ToRfcName() : null, isState ? e.To.ToRfcName() : null, e.Text,
                e.ClientState.ToRfcName(), e.ServerState.ToRfcName(), client, server,
                narrator.Tell(e, client, server), pairs[i]);
        }
        return steps;
    }

    /// <summary>Each segment sent, matched with where it arrived (or was lost), by its bytes.</summary>
    private static int?[] Pairs(IReadOnlyList<TraceEntry> entries, int count)
    {
        var pairs = new int?[count];
        for (int i = 0; i < count; i++)
        {
            if (entries[i].Kind != TraceKind.Sent || entries[i].Segment is not { } sent) continue;
            for (int j = i + 1; j < count; j++)
            {
                var e = entries[j];
                if (e.Kind is not (TraceKind.Delivered or TraceKind.Dropped) || pairs[j] is not null || e.Segment is not { } other) continue;
                if (e.Kind == TraceKind.Delivered && e.Endpoint != sent.To) continue;
                if (!other.Packet.AsSpan().SequenceEqual(sent.Packet)) continue;
                pairs[i] = j;
                pairs[j] = i;
                break;
            }
        }
        return pairs;
    }

    /// <summary>The packet's headers field by field (name, value), from its bytes.</summary>
    private static string[][] Fields(byte[] packet)
    {
        if (!TcpPacket.TryParse(packet, out var ip, out var tcp, out _, verifyChecksum: false)) return [["packet", "does not parse"]];
        var f = new List<string[]>();
        void Add(string name, string value) => f.Add([name, value]);
        Add("IP version", ip.Source.IsV6 ? "6" : "4");
        Add("IP header length", $"{ip.HeaderLength} bytes");
        Add("DSCP / ECN", $"{ip.Dscp} / {ip.Ecn}");
        Add(ip.Source.IsV6 ? "hop limit" : "TTL", ip.HopLimit.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("source", ip.Source.ToString());
        Add("destination", ip.Destination.ToString());
        Add("source port", tcp.SourcePort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("destination port", tcp.DestinationPort.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("sequence number", tcp.Seq.Value.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("acknowledgment number", tcp.Flags.Has(TcpFlags.Ack) ? tcp.Ack.Value.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"{tcp.Ack.Value} (no ACK flag: not meaningful)");
        Add("header length", $"{tcp.HeaderLength} bytes");
        Add("flags", $"{Tcpdump(tcp.Flags)} ({tcp.Flags})");
        Add("window", tcp.Window.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("checksum", $"0x{tcp.Checksum:x4}");
        Add("urgent pointer", tcp.UrgentPointer.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("options", tcp.Options.IsEmpty ? "none" : tcp.Options.ToString() ?? "");
        Add("payload", $"{Math.Max(0, ip.PayloadLength - tcp.HeaderLength)} bytes");
        return [.. f];
    }

    /// <summary>Flags as tcpdump and packetdrill write them ("S.", "P.", "F.", "."): one string per flag byte, made once.</summary>
    internal static string Tcpdump(TcpFlags f) => TcpdumpFlags[(byte)f];

    private static readonly string[] TcpdumpFlags = Enumerable.Range(0, 256).Select(i =>
    {
        var f = (TcpFlags)i;
        var letters = new System.Text.StringBuilder(8);
        foreach (var (bit, letter) in new[] { (TcpFlags.Syn, 'S'), (TcpFlags.Fin, 'F'), (TcpFlags.Rst, 'R'), (TcpFlags.Psh, 'P'), (TcpFlags.Urg, 'U'), (TcpFlags.Ece, 'E'), (TcpFlags.Cwr, 'W') })
        {
            if (f.Has(bit)) letters.Append(letter);
        }
        if (f.Has(TcpFlags.Ack)) letters.Append('.');
        return letters.Length == 0 ? "none" : letters.ToString();
    }).ToArray();

    private static SegmentView View(SegmentInfo s, TcbView? client, TcbView? server)
    {
        var (sender, receiver) = s.From == "client" ? (client, server) : (server, client);
        long relSeq = sender is { } a && a.Iss != 0 ? unchecked((int)(s.Seq.Value - a.Iss)) : s.Seq.Value;
        long relAck = receiver is { } b && b.Iss != 0 ? unchecked((int)(s.Ack.Value - b.Iss)) : s.Ack.Value;
        return new SegmentView(s.From, s.To, Tcpdump(s.Flags), s.Has(TcpFlags.Ack), s.Seq.Value, s.Ack.Value, relSeq, relAck,
            s.Length, s.Window, s.Options.IsEmpty ? "" : s.Options.ToString() ?? "", Convert.ToHexString(s.Packet), Fields(s.Packet));
    }
}
