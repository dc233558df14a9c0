using System.Globalization;
using System.Net;
using System.Text;
using Synack.Wire;

namespace Synack.Analysis;

/// <summary>
/// A self-contained HTML report: a table of connections, then one SVG ladder per connection — two
/// lifelines, each endpoint's (inferred) state written beside its line between arrows, each arrow
/// labelled like a textbook's ladder figures (flags, seq, ack, len), relative or absolute at the flick of a
/// switch, findings in red. No external resources.
/// </summary>
public static class LadderHtml
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int Left = 230, Right = 770, Row = 46, Top = 60;

    /// <summary>Conversations drawn (graphs and ladder) in one report; the table lists more, and <c>--stream</c> draws any one.</summary>
    public const int MaxDrawn = 50;
    /// <summary>Rows of the table of conversations.</summary>
    public const int MaxTableRows = 10_000;

    /// <summary>The report of conversations whose packets were kept (<see cref="Conversation.Packets"/>).</summary>
    public static string Render(IReadOnlyList<Conversation> conversations, string title)
    {
        var w = new StringWriter(Inv);
        Write(w, title, conversations, Sketches(conversations), null);
        return w.ToString();
    }

    /// <summary>Writes the report: the table of <paramref name="conversations"/>, then each sketched one drawn, section by section.</summary>
    internal static void Write(TextWriter output, string title, IReadOnlyList<Conversation> conversations, IReadOnlyList<ConversationSketch> drawn, AnalysisSummary? summary)
    {
        var sb = new StringBuilder();
        sb.Append("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>").Append(E(title)).Append("</title><style>")
          .Append("body{font-family:system-ui,sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-bottom:24px}")
          .Append("td,th{border:1px solid #ccc;padding:4px 8px;font-size:13px;text-align:left}th{background:#f4f4f4}")
          .Append("svg{display:block;margin:8px 0 32px;border:1px solid #eee;background:#fff}")
          .Append(".lbl{font:12px monospace}.st{font:bold 12px sans-serif;fill:#225}.find{fill:#c00;font:bold 11px sans-serif}")
          .Append(".arrow{stroke:#333;stroke-width:1.4}.arrow.bad{stroke:#c00}.life{stroke:#999;stroke-width:2}")
          .Append(".abs{display:none}body.absolute .abs{display:inline}body.absolute .rel{display:none}")
          .Append("svg.graph{border:1px solid #ddd;margin:6px 0}.plot{fill:#fcfcfc;stroke:#ccc}.gt{font:bold 13px sans-serif;fill:#333}.ax{font:11px sans-serif;fill:#555}")
          .Append(".tick{stroke:#888}.grid{stroke:#eee}.seg{stroke:#222;stroke-width:1.2}.rtx{stroke:#d00;stroke-width:2}.sack{stroke:#2a6fdb;stroke-width:2}")
          .Append(".ackline{fill:none;stroke:#2a2;stroke-width:1.2}.winline{fill:none;stroke:#9a9a20;stroke-width:1}.tput{fill:none;stroke:#2a6fdb;stroke-width:1.5}")
          .Append(".rtt{fill:#c60}.flight{fill:#2a2}.winstep{fill:none;stroke:#2a6fdb;stroke-width:1.2}.stl{font:bold 11px sans-serif;fill:#fff}")
          .Append("</style></head><body><script>window.onerror=function(m){document.body.setAttribute('data-error',String(m));};</script><h1>").Append(E(title)).Append("</h1>")
          .Append("<p><label><input type=\"checkbox\" id=\"abs\"> absolute sequence numbers</label> — states are inferred from the packets: a capture cannot see an application's close, and TIME-WAIT is assumed after the last ACK.</p>");
        if (summary is not null)
        {
            sb.Append("<p>").Append(E(AnalysisRenderer.Totals(summary))).Append('.');
            foreach (var line in AnalysisRenderer.Skipped(summary)) sb.Append(' ').Append(E(line)).Append('.');
            if (summary.Error is not null) sb.Append(" <b>The capture is damaged:</b> ").Append(E(summary.Error)).Append("; what came before is shown.");
            sb.Append("</p>");
        }
        if (drawn.Count < conversations.Count)
            sb.Append(Inv, $"<p>The first {drawn.Count} of {conversations.Count} conversations are drawn; <code>synack analyze --stream N --format html</code> draws any one.</p>");
        sb.Append("<table><tr><th>stream</th><th>client</th><th>server</th><th>client ISN</th><th>server ISN</th><th>close</th><th>conn_state</th><th>history</th><th>packets</th><th>bytes c→s / s→c</th><th>handshake RTT</th></tr>");
        int rows = 0;
        foreach (var c in conversations)
        {
            if (rows++ == MaxTableRows)
            {
                sb.Append(Inv, $"<tr><td colspan=\"11\">… and {conversations.Count - MaxTableRows} more (the JSON view lists them all)</td></tr>");
                break;
            }
            sb.Append(Inv, $"<tr><td>{(rows <= drawn.Count ? $"<a href=\"#s{c.Stream}\">{c.Stream}</a>" : c.Stream.ToString(Inv))}</td><td>{E(c.Client)}</td><td>{E(c.Server)}</td><td>{c.ClientIsn}</td><td>{c.ServerIsn}</td>")
              .Append(Inv, $"<td>{E(c.CloseKind)}</td><td>{E(c.ConnState)}</td><td>{E(c.History)}</td><td>{c.PacketCount}</td><td>{c.ClientBytes} / {c.ServerBytes}</td><td>{(c.HandshakeRttMs is double r ? r.ToString("F3", Inv) + " ms" : "")}</td></tr>");
            if (sb.Length > 1 << 16) Flush(output, sb);
        }
        sb.Append("</table>");
        foreach (var sketch in drawn)
        {
            var c = sketch.Conversation;
            sb.Append(Inv, $"<h2 id=\"s{c.Stream}\">stream {c.Stream}: {E(c.Client)} → {E(c.Server)} ({E(c.CloseKind)} close)</h2>");
            StreamGraphs.Render(sb, sketch);
            Ladder(sb, sketch);
            Flush(output, sb);
        }
        sb.Append("<script>document.getElementById('abs').addEventListener('change',function(e){document.body.classList.toggle('absolute',e.target.checked);});")
          .Append("document.body.setAttribute('data-ladders',String(document.querySelectorAll('svg.ladder').length));")
          .Append("document.body.setAttribute('data-graphs',String(document.querySelectorAll('svg.graph').length));</script></body></html>");
        Flush(output, sb);
    }

    private static void Flush(TextWriter output, StringBuilder sb)
    {
        output.Write(sb);
        sb.Clear();
    }

    /// <summary>The ladder of a conversation's first packets (<see cref="ConversationSketch.LadderRows"/>; the graphs show them all).</summary>
    private static void Ladder(StringBuilder sb, ConversationSketch sketch)
    {
        var c = sketch.Conversation;
        var packets = sketch.Ladder;
        int rows = packets.Count;
        int height = Top + (rows + 1) * Row + 20;
        if (rows < sketch.PacketCount) sb.Append(Inv, $"<p>The ladder shows the first {rows} of {sketch.PacketCount} packets.</p>");
        sb.Append(Inv, $"<svg class=\"ladder\" width=\"1000\" height=\"{height}\" viewBox=\"0 0 1000 {height}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append("<defs><marker id=\"h\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#333\"/></marker></defs>");
        sb.Append(Inv, $"<text x=\"{Left}\" y=\"24\" text-anchor=\"middle\" class=\"st\">client {E(c.Client)}</text><text x=\"{Right}\" y=\"24\" text-anchor=\"middle\" class=\"st\">server {E(c.Server)}</text>");
        sb.Append(Inv, $"<line class=\"life\" x1=\"{Left}\" y1=\"{Top - 20}\" x2=\"{Left}\" y2=\"{height - 10}\"/><line class=\"life\" x1=\"{Right}\" y1=\"{Top - 20}\" x2=\"{Right}\" y2=\"{height - 10}\"/>");
        string prevC = "", prevS = "";
        for (int i = 0; i < rows; i++)
        {
            var p = packets[i];
            int y0 = Top + i * Row, y1 = y0 + Row - 12;
            int x0 = p.FromClient ? Left : Right, x1 = p.FromClient ? Right : Left;
            bool bad = p.Findings.Count > 0;
            sb.Append(Inv, $"<line class=\"arrow{(bad ? " bad" : "")}\" x1=\"{x0}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y1}\" marker-end=\"url(#h)\"><title>frame {p.Frame} at {p.Time:F6} s</title></line>");
            bool ack = p.Flags.Has(TcpFlags.Ack);
            string rel = $"{p.FlagText} seq={p.Seq}{(ack ? $" ack={p.Ack}" : "")} len={p.Length}";
            string abs = $"{p.FlagText} seq={p.SeqRaw}{(ack ? $" ack={p.AckRaw}" : "")} len={p.Length}";
            int mx = (Left + Right) / 2, my = (y0 + y1) / 2 - 4;
            sb.Append(Inv, $"<text class=\"lbl\" x=\"{mx}\" y=\"{my}\" text-anchor=\"middle\"><tspan class=\"rel\">{E(rel)}</tspan><tspan class=\"abs\">{E(abs)}</tspan></text>");
            if (bad) sb.Append(Inv, $"<text class=\"find\" x=\"{mx}\" y=\"{my + 14}\" text-anchor=\"middle\">{E(string.Join(", ", p.Findings))}</text>");
            // The states after this packet, beside each lifeline, where they change.
            string cs = AnalysisRenderer.Name(p.ClientState), ss = AnalysisRenderer.Name(p.ServerState);
            if (cs != prevC) sb.Append(Inv, $"<text class=\"st\" x=\"{Left - 12}\" y=\"{y1 + 4}\" text-anchor=\"end\">{E(cs)}</text>");
            if (ss != prevS) sb.Append(Inv, $"<text class=\"st\" x=\"{Right + 12}\" y=\"{y1 + 4}\">{E(ss)}</text>");
            prevC = cs;
            prevS = ss;
        }
        sb.Append("</svg>");
    }

    /// <summary>A Mermaid sequenceDiagram of the same ladders.</summary>
    public static string Mermaid(IReadOnlyList<Conversation> conversations)
    {
        var w = new StringWriter(Inv);
        WriteMermaid(w, Sketches(conversations));
        return w.ToString();
    }

    /// <summary>The conversations drawn, from packets kept whole.</summary>
    private static List<ConversationSketch> Sketches(IReadOnlyList<Conversation> conversations) =>
        conversations.Take(MaxDrawn).Select(ConversationSketch.Of).ToList();

    internal static void WriteMermaid(TextWriter output, IReadOnlyList<ConversationSketch> drawn)
    {
        var sb = new StringBuilder();
        foreach (var sketch in drawn)
        {
            var c = sketch.Conversation;
            sb.AppendLine("sequenceDiagram");
            sb.AppendLine(Inv, $"    participant C as client {c.Client}");
            sb.AppendLine(Inv, $"    participant S as server {c.Server}");
            string prevC = "", prevS = "";
            foreach (var p in sketch.Ladder)
            {
                bool ack = p.Flags.Has(TcpFlags.Ack);
                string label = $"{p.FlagText} seq={p.Seq}{(ack ? $" ack={p.Ack}" : "")} len={p.Length}{(p.Findings.Count > 0 ? " [" + string.Join(", ", p.Findings) + "]" : "")}";
                sb.AppendLine(Inv, $"    {(p.FromClient ? "C->>S" : "S->>C")}: {label}");
                string cs = AnalysisRenderer.Name(p.ClientState), ss = AnalysisRenderer.Name(p.ServerState);
                if (cs != prevC) sb.AppendLine(Inv, $"    Note left of C: {cs}");
                if (ss != prevS) sb.AppendLine(Inv, $"    Note right of S: {ss}");
                prevC = cs;
                prevS = ss;
            }
            if (sketch.Ladder.Count < sketch.PacketCount) sb.AppendLine(Inv, $"    Note over C,S: {sketch.PacketCount - sketch.Ladder.Count} more packets");
            sb.AppendLine();
            Flush(output, sb);
        }
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
