using System.Collections.Concurrent;
using Synack.Analysis;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>A conversation of an opened capture, as the page lists it.</summary>
internal sealed record ConversationView(int Stream, string Client, string Server, long Packets, string CloseKind, string History, uint? ClientIsn, uint? ServerIsn);

/// <summary>An opened capture: its id (for the windows the page asks for), what it is, and its conversations.</summary>
internal sealed record CaptureView(string Id, string Name, string Format, string? Compression, long Frames, long TcpFrames, string? Error, ConversationView[] Conversations);

/// <summary>One packet of a conversation: the analyzer's reading of it, with both inferred states.</summary>
internal sealed record PacketRowView(
    int Index, int Frame, double TimeMs, bool FromClient, string Flags, uint SeqRaw, uint AckRaw, long Seq, long Ack, int Length, long Window,
    string ClientState, string ServerState, string[] Findings, string? Comment);

/// <summary>A window of a conversation's packets.</summary>
internal sealed record PacketWindowView(int Stream, int From, int Total, PacketRowView[] Packets);

/// <summary>
/// Captures the page has opened, analyzed once as they arrive (streamed: a capture of a million packets
/// is never held as packets, only as one compact row each) and then served a window at a time, so the
/// page never asks for more than <see cref="MaxWindow"/> rows whatever the capture's size. At most
/// <see cref="Kept"/> captures are kept; the oldest goes first.
/// </summary>
internal sealed class CaptureStore
{
    public const int MaxWindow = 500;
    public const int Kept = 2;
    public const long LargestUpload = 512L * 1024 * 1024;

    private readonly ConcurrentDictionary<string, Stored> _captures = new();
    private readonly ConcurrentQueue<string> _order = new();

    private struct Row
    {
        public int Frame;
        public double Time;
        public bool FromClient;
        public TcpFlags Flags;
        public uint SeqRaw, AckRaw;
        public long Seq, Ack, Window;
        public int Length;
        public TcpState Client, Server;
    }

    private sealed class Stored(CaptureView view)
    {
        public CaptureView View { get; set; } = view;
        /// <summary>The analyzer's HTML report: ladders and Wireshark's stream graphs for the first conversations (bounded).</summary>
        public string Report { get; set; } = "";
        public Dictionary<int, List<Row>> Streams { get; } = [];
        public Dictionary<(int Stream, int Index), (string[] Findings, string? Comment)> Notes { get; } = [];
    }

    private sealed class Collector(Stored into, IAnalysisWriter report) : IAnalysisWriter
    {
        public void Packet(Conversation conversation, PacketView p)
        {
            report.Packet(conversation, p);
            if (!into.Streams.TryGetValue(conversation.Stream, out var rows)) into.Streams[conversation.Stream] = rows = [];
            if (p.Findings.Count > 0 || p.Comment is not null) into.Notes[(conversation.Stream, rows.Count)] = ([.. p.Findings], p.Comment);
            rows.Add(new Row
            {
                Frame = p.Frame, Time = p.Time, FromClient = p.FromClient, Flags = p.Flags, SeqRaw = p.SeqRaw, AckRaw = p.AckRaw,
                Seq = p.Seq, Ack = p.Ack, Window = p.Window, Length = p.Length, Client = p.ClientState, Server = p.ServerState,
            });
        }

        public void End(AnalysisSummary summary) => report.End(summary);
    }

    /// <summary>Reads and analyzes <paramref name="capture"/> (pcap or pcapng, plain, gzip or zstd).</summary>
    public CaptureView Open(Stream capture, string name)
    {
        using var reader = CaptureReader.Open(capture, leaveOpen: true);
        var stored = new Stored(new CaptureView("", name, "", null, 0, 0, null, []));
        using var html = new StringWriter();
        var summary = CaptureAnalyzer.Run(reader, new AnalysisOptions(), new Collector(stored, new DiagramAnalysisWriter(html, name)));
        stored.Report = html.ToString();
        if (summary.Frames == 0 && summary.Error is not null) throw new LabRequestException($"'{name}' is not a capture this reads: {summary.Error}");
        string id = Guid.NewGuid().ToString("N");
        var conversations = summary.Conversations
            .Select(c => new ConversationView(c.Stream, c.Client, c.Server, c.PacketCount, c.CloseKind, c.History, c.ClientIsn, c.ServerIsn))
            .ToArray();
        stored.View = new CaptureView(id, name, summary.Format, summary.Compression, summary.Frames, summary.TcpFrames, summary.Error, conversations);
        _captures[id] = stored;
        _order.Enqueue(id);
        while (_order.Count > Kept && _order.TryDequeue(out var oldest)) _captures.TryRemove(oldest, out _);
        return stored.View;
    }

    /// <summary>Rows <paramref name="from"/>.. of a conversation, at most <see cref="MaxWindow"/>; null when the capture is gone or never was.</summary>
    public PacketWindowView? Window(string id, int stream, int from, int count)
    {
        if (!_captures.TryGetValue(id, out var stored)) return null;
        if (!stored.Streams.TryGetValue(stream, out var rows)) throw new LabRequestException($"the capture has no conversation {stream}");
        if (from < 0 || count < 1) throw new LabRequestException("from must be 0 or more and count 1 or more");
        count = Math.Min(count, MaxWindow);
        from = Math.Min(from, Math.Max(0, rows.Count - 1));
        int end = Math.Min(rows.Count, from + count);
        var window = new PacketRowView[end - from];
        for (int i = from; i < end; i++)
        {
            var r = rows[i];
            var (findings, comment) = stored.Notes.TryGetValue((stream, i), out var n) ? n : ([], null);
            window[i - from] = new PacketRowView(i, r.Frame, r.Time * 1000, r.FromClient, LabRun.Tcpdump(r.Flags), r.SeqRaw, r.AckRaw, r.Seq, r.Ack, r.Length, r.Window,
                r.Client.ToRfcName(), r.Server.ToRfcName(), findings, comment);
        }
        return new PacketWindowView(stream, from, rows.Count, window);
    }

    /// <summary>The analyzer's report of an open capture (its ladders and stream graphs), or null.</summary>
    public string? Report(string id) => _captures.TryGetValue(id, out var stored) ? stored.Report : null;
}
