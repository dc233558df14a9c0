using System.Globalization;
using System.Net;
using System.Text;
using Synack.Tcp;

namespace Synack.Analysis;

/// <summary>
/// Wireshark's TCP Stream Graphs for one conversation, drawn as inline SVG with no script and no external
/// resource: the time-sequence graph (tcptrace style: each segment a bar from its first to its last byte,
/// retransmissions red, the receiver's ACK and window edge as steps, its SACK blocks blue), throughput,
/// round-trip time (each ACK that acknowledges a segment sent once, exactly), window scaling (the
/// receiver's window against the sender's bytes in flight), and both endpoints' inferred states along
/// the same time axis. The data direction is the one that carried more bytes.
/// </summary>
internal static class StreamGraphs
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;
    private const int Width = 960, Height = 260, Left = 90, Right = 20, Top = 34, Bottom = 40;
    private const int PlotW = Width - Left - Right, PlotH = Height - Top - Bottom;

    public static int Render(StringBuilder sb, ConversationSketch sketch)
    {
        if (sketch.PacketCount == 0) return 0;
        var c = sketch.Conversation;
        bool senderIsClient = sketch.FromClient.Bytes >= sketch.FromServer.Bytes;
        double t0 = sketch.T0, t1 = sketch.T1;
        if (t1 - t0 < 1e-6) t1 = t0 + 1e-3;
        var axis = new TimeAxis(t0, t1);
        string dir = senderIsClient ? $"{c.Client} → {c.Server}" : $"{c.Server} → {c.Client}";
        var d = senderIsClient ? sketch.FromClient : sketch.FromServer;
        sb.Append("<div class=\"graphs\">");
        TimeSequence(sb, d, axis, dir);
        Throughput(sb, d, axis, dir);
        RoundTrip(sb, d, axis, dir);
        WindowScaling(sb, d, axis, dir);
        States(sb, sketch, axis);
        sb.Append("</div>");
        return 5;
    }

    private readonly record struct TimeAxis(double T0, double T1)
    {
        public double X(double t) => Left + (t - T0) / (T1 - T0) * PlotW;
    }

    private static void Open(StringBuilder sb, string kind, string title)
    {
        sb.Append(Inv, $"<svg class=\"graph\" data-kind=\"{kind}\" width=\"{Width}\" height=\"{Height}\" viewBox=\"0 0 {Width} {Height}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append(Inv, $"<text class=\"gt\" x=\"{Left}\" y=\"20\">{E(title)}</text>");
        sb.Append(Inv, $"<rect x=\"{Left}\" y=\"{Top}\" width=\"{PlotW}\" height=\"{PlotH}\" class=\"plot\"/>");
    }

    private static void Axes(StringBuilder sb, TimeAxis axis, double y0, double y1, string yLabel, Func<double, string> yFormat)
    {
        foreach (var t in Ticks(axis.T0, axis.T1))
        {
            double x = axis.X(t);
            sb.Append(Inv, $"<line class=\"tick\" x1=\"{x:F1}\" y1=\"{Top + PlotH}\" x2=\"{x:F1}\" y2=\"{Top + PlotH + 5}\"/><text class=\"ax\" x=\"{x:F1}\" y=\"{Top + PlotH + 18}\" text-anchor=\"middle\">{t.ToString("0.###", Inv)}</text>");
        }
        sb.Append(Inv, $"<text class=\"ax\" x=\"{Left + PlotW / 2}\" y=\"{Height - 4}\" text-anchor=\"middle\">time (s)</text>");
        foreach (var v in Ticks(y0, y1))
        {
            double y = Y(v, y0, y1);
            sb.Append(Inv, $"<line class=\"grid\" x1=\"{Left}\" y1=\"{y:F1}\" x2=\"{Left + PlotW}\" y2=\"{y:F1}\"/><text class=\"ax\" x=\"{Left - 6}\" y=\"{y + 4:F1}\" text-anchor=\"end\">{E(yFormat(v))}</text>");
        }
        sb.Append(Inv, $"<text class=\"ax\" transform=\"translate(14,{Top + PlotH / 2}) rotate(-90)\" text-anchor=\"middle\">{E(yLabel)}</text>");
    }

    private static double Y(double v, double y0, double y1) => Top + PlotH - (y1 > y0 ? (v - y0) / (y1 - y0) : 0) * PlotH;

    /// <summary>About five round-numbered ticks over [a, b].</summary>
    private static IEnumerable<double> Ticks(double a, double b)
    {
        if (!(b > a)) yield break;
        double raw = (b - a) / 5, mag = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = raw / mag >= 5 ? 5 * mag : raw / mag >= 2 ? 2 * mag : mag;
        for (double v = Math.Ceiling(a / step) * step; v <= b + step * 1e-9; v += step) yield return v;
    }

    private static string Bytes(double v) =>
        v >= 1e9 ? (v / 1e9).ToString("0.## G", Inv) : v >= 1e6 ? (v / 1e6).ToString("0.## M", Inv) : v >= 1e4 ? (v / 1e3).ToString("0.# k", Inv) : v.ToString("0", Inv);

    private static void TimeSequence(StringBuilder sb, DirectionSketch d, TimeAxis axis, string dir)
    {
        double y0 = d.Low, y1 = d.High;
        if (d.DataSegments == 0) { y0 = 0; y1 = 1; }
        Open(sb, "time-sequence", $"Time-sequence (tcptrace), {dir}: retransmitted (red), ACK (green), window (olive), SACK (blue)");
        Axes(sb, axis, y0, y1, "relative sequence number", Bytes);
        foreach (var seg in d.Segments.Items) Bar(sb, "seg", seg, axis, y0, y1);
        foreach (var seg in d.Resent.Items) Bar(sb, "rtx", seg, axis, y0, y1); // drawn last: on top
        var ack = new StringBuilder();
        var win = new StringBuilder();
        foreach (var a in d.Acks.Items)
        {
            if (a.Ack < y0 || a.Ack > y1) continue;
            double x = axis.X(a.Time);
            ack.Append(Inv, $"{x:F1},{Y(a.Ack, y0, y1):F1} ");
            win.Append(Inv, $"{x:F1},{Y(Math.Min(a.Ack + a.Window, y1), y0, y1):F1} ");
        }
        foreach (var s in d.Sacks.Items)
        {
            if (s.Left < y0 || s.Right > y1 || s.Right <= s.Left) continue;
            double x = axis.X(s.Time);
            sb.Append(Inv, $"<line class=\"sack\" x1=\"{x:F1}\" y1=\"{Y(s.Left, y0, y1):F1}\" x2=\"{x:F1}\" y2=\"{Y(s.Right, y0, y1):F1}\"/>");
        }
        if (ack.Length > 0) sb.Append("<polyline class=\"ackline\" points=\"").Append(ack).Append("\"/>");
        if (win.Length > 0) sb.Append("<polyline class=\"winline\" points=\"").Append(win).Append("\"/>");
        sb.Append("</svg>");
    }

    private static void Bar(StringBuilder sb, string cls, DirectionSketch.Segment seg, TimeAxis axis, double y0, double y1)
    {
        double x = axis.X(seg.Time);
        sb.Append(Inv, $"<line class=\"{cls}\" x1=\"{x:F1}\" y1=\"{Y(seg.Seq, y0, y1):F1}\" x2=\"{x:F1}\" y2=\"{Y(seg.Seq + seg.Length, y0, y1) - 0.8:F1}\"/>");
    }

    private static void Throughput(StringBuilder sb, DirectionSketch d, TimeAxis axis, string dir)
    {
        const int buckets = 100;
        var bits = d.Throughput.Rebin(axis.T1, buckets);
        double width = (axis.T1 - axis.T0) / buckets;
        double max = 1;
        for (int i = 0; i < buckets; i++)
        {
            bits[i] /= width;
            max = Math.Max(max, bits[i]);
        }
        Open(sb, "throughput", string.Create(Inv, $"Throughput, {dir}: segment bytes per {width * 1000:0.###} ms"));
        Axes(sb, axis, 0, max, "bit/s", v => Bytes(v));
        var line = new StringBuilder();
        for (int i = 0; i < buckets; i++) line.Append(Inv, $"{axis.X(axis.T0 + (i + 0.5) * width):F1},{Y(bits[i], 0, max):F1} ");
        sb.Append("<polyline class=\"tput\" points=\"").Append(line).Append("\"/></svg>");
    }

    private static void RoundTrip(StringBuilder sb, DirectionSketch d, TimeAxis axis, string dir)
    {
        double max = 1;
        foreach (var r in d.Rtt.Items) max = Math.Max(max, r.Value);
        Open(sb, "rtt", $"Round-trip time, {dir}: {d.Rtt.Seen} samples (segments sent once)");
        Axes(sb, axis, 0, max, "RTT (ms)", v => v.ToString("0.##", Inv));
        foreach (var r in d.Rtt.Items)
            sb.Append(Inv, $"<circle class=\"rtt\" cx=\"{axis.X(r.Time):F1}\" cy=\"{Y(r.Value, 0, max):F1}\" r=\"2\"/>");
        sb.Append("</svg>");
    }

    private static void WindowScaling(StringBuilder sb, DirectionSketch d, TimeAxis axis, string dir)
    {
        double max = 1;
        foreach (var w in d.Window.Items) max = Math.Max(max, w.Value);
        foreach (var f in d.Flight.Items) max = Math.Max(max, f.Value);
        Open(sb, "window", $"Window scaling, {dir}: receiver's window (blue), bytes in flight (green)");
        Axes(sb, axis, 0, max, "bytes", Bytes);
        foreach (var f in d.Flight.Items)
            sb.Append(Inv, $"<circle class=\"flight\" cx=\"{axis.X(f.Time):F1}\" cy=\"{Y(f.Value, 0, max):F1}\" r=\"1.6\"/>");
        var line = new StringBuilder();
        double? last = null;
        foreach (var w in d.Window.Items)
        {
            double x = axis.X(w.Time), y = Y(w.Value, 0, max);
            if (last is double ly) line.Append(Inv, $"{x:F1},{ly:F1} ");
            line.Append(Inv, $"{x:F1},{y:F1} ");
            last = y;
        }
        if (line.Length > 0) sb.Append("<polyline class=\"winstep\" points=\"").Append(line).Append("\"/>");
        sb.Append("</svg>");
    }

    private static readonly Dictionary<TcpState, string> Colors = new()
    {
        [TcpState.Closed] = "#bbb",
        [TcpState.Listen] = "#ddd",
        [TcpState.SynSent] = "#f4c542",
        [TcpState.SynReceived] = "#f2a93b",
        [TcpState.Established] = "#5cb85c",
        [TcpState.FinWait1] = "#5bc0de",
        [TcpState.FinWait2] = "#3a87ad",
        [TcpState.CloseWait] = "#d9534f",
        [TcpState.Closing] = "#9b59b6",
        [TcpState.LastAck] = "#e67e22",
        [TcpState.TimeWait] = "#34495e",
    };

    private static void States(StringBuilder sb, ConversationSketch sketch, TimeAxis axis)
    {
        const int rowH = 40;
        var changes = sketch.States;
        sb.Append(Inv, $"<svg class=\"graph\" data-kind=\"states\" width=\"{Width}\" height=\"{Top + 2 * rowH + 50}\" viewBox=\"0 0 {Width} {Top + 2 * rowH + 50}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append(Inv, $"<text class=\"gt\" x=\"{Left}\" y=\"20\">Each endpoint's inferred state over time (a capture shows packets, not CLOSE calls)</text>");
        for (int row = 0; row < 2; row++)
        {
            int y = Top + row * rowH;
            sb.Append(Inv, $"<text class=\"ax\" x=\"{Left - 6}\" y=\"{y + rowH / 2 + 4}\" text-anchor=\"end\">{(row == 0 ? "client" : "server")}</text>");
            int i = 0;
            while (i < changes.Count)
            {
                var state = row == 0 ? changes[i].Client : changes[i].Server;
                int j = i + 1;
                while (j < changes.Count && (row == 0 ? changes[j].Client : changes[j].Server) == state) j++;
                double x0 = axis.X(changes[i].Time), x1 = j < changes.Count ? axis.X(changes[j].Time) : Left + PlotW;
                double w = Math.Max(1, x1 - x0);
                string name = AnalysisRenderer.Name(state);
                sb.Append(Inv, $"<rect x=\"{x0:F1}\" y=\"{y + 4}\" width=\"{w:F1}\" height=\"{rowH - 8}\" fill=\"{Colors[state]}\"><title>{E(name)} from {changes[i].Time:F6} s</title></rect>");
                if (w > name.Length * 7) sb.Append(Inv, $"<text class=\"stl\" x=\"{x0 + 4:F1}\" y=\"{y + rowH / 2 + 4}\">{E(name)}</text>");
                i = j;
            }
        }
        foreach (var t in Ticks(axis.T0, axis.T1))
        {
            double x = axis.X(t);
            sb.Append(Inv, $"<text class=\"ax\" x=\"{x:F1}\" y=\"{Top + 2 * rowH + 16}\" text-anchor=\"middle\">{t.ToString("0.###", Inv)}</text>");
        }
        sb.Append(Inv, $"<text class=\"ax\" x=\"{Left + PlotW / 2}\" y=\"{Top + 2 * rowH + 36}\" text-anchor=\"middle\">time (s)</text></svg>");
    }

    private static string E(string s) => WebUtility.HtmlEncode(s);
}
