using System.Globalization;
using System.Net;
using System.Text;

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
    /// <summary>More segments than this are thinned evenly (retransmissions always kept): a page stays drawable.</summary>
    private const int MaxMarks = 20_000;

    public static int Render(StringBuilder sb, Conversation c)
    {
        var ps = c.Packets;
        if (ps.Count == 0) return 0;
        bool senderIsClient = c.ClientBytes >= c.ServerBytes;
        double t0 = ps[0].Time, t1 = ps[^1].Time;
        if (t1 - t0 < 1e-6) t1 = t0 + 1e-3;
        var axis = new TimeAxis(t0, t1);
        string dir = senderIsClient ? $"{c.Client} → {c.Server}" : $"{c.Server} → {c.Client}";
        sb.Append("<div class=\"graphs\">");
        TimeSequence(sb, ps, senderIsClient, axis, dir);
        Throughput(sb, ps, senderIsClient, axis, dir);
        RoundTrip(sb, ps, senderIsClient, axis, dir);
        WindowScaling(sb, ps, senderIsClient, axis, dir);
        States(sb, ps, axis);
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

    private static bool Resent(PacketView p)
    {
        foreach (var f in p.Findings)
        {
            if (f is "retransmission" or "out_of_order") return true;
        }
        return false;
    }

    private static void TimeSequence(StringBuilder sb, List<PacketView> ps, bool senderIsClient, TimeAxis axis, string dir)
    {
        double y0 = double.MaxValue, y1 = 0;
        int data = 0;
        foreach (var p in ps)
        {
            if (p.FromClient == senderIsClient && p.Length > 0)
            {
                y0 = Math.Min(y0, p.Seq);
                y1 = Math.Max(y1, p.Seq + p.Length);
                data++;
            }
            else if (p.FromClient != senderIsClient && (p.Flags & Synack.Wire.TcpFlags.Ack) != 0 && data > 0)
            {
                y1 = Math.Max(y1, p.Ack + p.Window);
            }
        }
        if (data == 0) { y0 = 0; y1 = 1; }
        Open(sb, "time-sequence", $"Time-sequence (tcptrace), {dir}: retransmitted (red), ACK (green), window (olive), SACK (blue)");
        Axes(sb, axis, y0, y1, "relative sequence number", Bytes);
        int every = Math.Max(1, data / MaxMarks), n = 0;
        var ack = new StringBuilder();
        var win = new StringBuilder();
        foreach (var p in ps)
        {
            double x = axis.X(p.Time);
            if (p.FromClient == senderIsClient)
            {
                if (p.Length == 0) continue;
                bool resent = Resent(p);
                if (!resent && n++ % every != 0) continue;
                sb.Append(Inv, $"<line class=\"{(resent ? "rtx" : "seg")}\" x1=\"{x:F1}\" y1=\"{Y(p.Seq, y0, y1):F1}\" x2=\"{x:F1}\" y2=\"{Y(p.Seq + p.Length, y0, y1) - 0.8:F1}\"/>");
            }
            else if ((p.Flags & Synack.Wire.TcpFlags.Ack) != 0 && p.Ack >= y0 && p.Ack <= y1)
            {
                ack.Append(Inv, $"{x:F1},{Y(p.Ack, y0, y1):F1} ");
                win.Append(Inv, $"{x:F1},{Y(Math.Min(p.Ack + p.Window, y1), y0, y1):F1} ");
                if (p.Sacks is { } sacks)
                {
                    foreach (var (l, r) in sacks)
                    {
                        if (l < y0 || r > y1 || r <= l) continue;
                        sb.Append(Inv, $"<line class=\"sack\" x1=\"{x:F1}\" y1=\"{Y(l, y0, y1):F1}\" x2=\"{x:F1}\" y2=\"{Y(r, y0, y1):F1}\"/>");
                    }
                }
            }
        }
        if (ack.Length > 0) sb.Append("<polyline class=\"ackline\" points=\"").Append(ack).Append("\"/>");
        if (win.Length > 0) sb.Append("<polyline class=\"winline\" points=\"").Append(win).Append("\"/>");
        sb.Append("</svg>");
    }

    private static void Throughput(StringBuilder sb, List<PacketView> ps, bool senderIsClient, TimeAxis axis, string dir)
    {
        const int buckets = 100;
        var bits = new double[buckets];
        double width = (axis.T1 - axis.T0) / buckets;
        foreach (var p in ps)
        {
            if (p.FromClient != senderIsClient || p.Length == 0) continue;
            int i = Math.Clamp((int)((p.Time - axis.T0) / width), 0, buckets - 1);
            bits[i] += p.Length * 8.0;
        }
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

    private static void RoundTrip(StringBuilder sb, List<PacketView> ps, bool senderIsClient, TimeAxis axis, string dir)
    {
        // Karn: only a segment sent once gives a sample, taken by the ACK that ends exactly at its end (tcp.analysis.ack_rtt).
        var sent = new Dictionary<long, (double Time, bool Resent)>();
        var samples = new List<(double Time, double Rtt)>();
        foreach (var p in ps)
        {
            if (p.FromClient == senderIsClient)
            {
                if (p.Length == 0 && (p.Flags & (Synack.Wire.TcpFlags.Syn | Synack.Wire.TcpFlags.Fin)) == 0) continue;
                long end = p.Seq + p.Length + ((p.Flags & (Synack.Wire.TcpFlags.Syn | Synack.Wire.TcpFlags.Fin)) != 0 ? 1 : 0);
                bool resent = sent.ContainsKey(end) || Resent(p);
                sent[end] = (p.Time, resent);
                if (sent.Count > 100_000) sent.Clear(); // a bound on what a huge flight keeps
            }
            else if ((p.Flags & Synack.Wire.TcpFlags.Ack) != 0 && sent.Remove(p.Ack, out var s) && !s.Resent)
            {
                samples.Add((p.Time, (p.Time - s.Time) * 1000));
            }
        }
        double max = 1;
        foreach (var (_, r) in samples) max = Math.Max(max, r);
        Open(sb, "rtt", $"Round-trip time, {dir}: {samples.Count} samples (segments sent once)");
        Axes(sb, axis, 0, max, "RTT (ms)", v => v.ToString("0.##", Inv));
        int every = Math.Max(1, samples.Count / MaxMarks);
        for (int i = 0; i < samples.Count; i += every)
            sb.Append(Inv, $"<circle class=\"rtt\" cx=\"{axis.X(samples[i].Time):F1}\" cy=\"{Y(samples[i].Rtt, 0, max):F1}\" r=\"2\"/>");
        sb.Append("</svg>");
    }

    private static void WindowScaling(StringBuilder sb, List<PacketView> ps, bool senderIsClient, TimeAxis axis, string dir)
    {
        var window = new List<(double, double)>();
        var flight = new List<(double, double)>();
        long highest = 0, acked = 0;
        bool any = false;
        foreach (var p in ps)
        {
            if (p.FromClient == senderIsClient)
            {
                if (p.Length == 0) continue;
                highest = Math.Max(highest, p.Seq + p.Length);
                if (!any) acked = p.Seq;
                any = true;
                flight.Add((p.Time, Math.Max(0, highest - acked)));
            }
            else if ((p.Flags & Synack.Wire.TcpFlags.Ack) != 0)
            {
                window.Add((p.Time, p.Window));
                if (any) acked = Math.Max(acked, p.Ack);
            }
        }
        double max = 1;
        foreach (var (_, v) in window) max = Math.Max(max, v);
        foreach (var (_, v) in flight) max = Math.Max(max, v);
        Open(sb, "window", $"Window scaling, {dir}: receiver's window (blue), bytes in flight (green)");
        Axes(sb, axis, 0, max, "bytes", Bytes);
        int every = Math.Max(1, flight.Count / MaxMarks);
        for (int i = 0; i < flight.Count; i += every)
            sb.Append(Inv, $"<circle class=\"flight\" cx=\"{axis.X(flight[i].Item1):F1}\" cy=\"{Y(flight[i].Item2, 0, max):F1}\" r=\"1.6\"/>");
        var line = new StringBuilder();
        double? last = null;
        int wEvery = Math.Max(1, window.Count / MaxMarks);
        for (int i = 0; i < window.Count; i += wEvery)
        {
            var (t, v) = window[i];
            double x = axis.X(t), y = Y(v, 0, max);
            if (last is double ly) line.Append(Inv, $"{x:F1},{ly:F1} ");
            line.Append(Inv, $"{x:F1},{y:F1} ");
            last = y;
        }
        if (line.Length > 0) sb.Append("<polyline class=\"winstep\" points=\"").Append(line).Append("\"/>");
        sb.Append("</svg>");
    }

    private static readonly Dictionary<InferredState, string> Colors = new()
    {
        [InferredState.Closed] = "#bbb",
        [InferredState.Listen] = "#ddd",
        [InferredState.SynSent] = "#f4c542",
        [InferredState.SynReceived] = "#f2a93b",
        [InferredState.Established] = "#5cb85c",
        [InferredState.FinWait1] = "#5bc0de",
        [InferredState.FinWait2] = "#3a87ad",
        [InferredState.CloseWait] = "#d9534f",
        [InferredState.Closing] = "#9b59b6",
        [InferredState.LastAck] = "#e67e22",
        [InferredState.TimeWait] = "#34495e",
    };

    private static void States(StringBuilder sb, List<PacketView> ps, TimeAxis axis)
    {
        const int rowH = 40;
        sb.Append(Inv, $"<svg class=\"graph\" data-kind=\"states\" width=\"{Width}\" height=\"{Top + 2 * rowH + 50}\" viewBox=\"0 0 {Width} {Top + 2 * rowH + 50}\" xmlns=\"http://www.w3.org/2000/svg\">");
        sb.Append(Inv, $"<text class=\"gt\" x=\"{Left}\" y=\"20\">Each endpoint's inferred state over time (a capture shows packets, not CLOSE calls)</text>");
        for (int row = 0; row < 2; row++)
        {
            int y = Top + row * rowH;
            sb.Append(Inv, $"<text class=\"ax\" x=\"{Left - 6}\" y=\"{y + rowH / 2 + 4}\" text-anchor=\"end\">{(row == 0 ? "client" : "server")}</text>");
            int i = 0;
            while (i < ps.Count)
            {
                var state = row == 0 ? ps[i].ClientState : ps[i].ServerState;
                int j = i + 1;
                while (j < ps.Count && (row == 0 ? ps[j].ClientState : ps[j].ServerState) == state) j++;
                double x0 = axis.X(ps[i].Time), x1 = j < ps.Count ? axis.X(ps[j].Time) : Left + PlotW;
                double w = Math.Max(1, x1 - x0);
                string name = AnalysisRenderer.Name(state);
                sb.Append(Inv, $"<rect x=\"{x0:F1}\" y=\"{y + 4}\" width=\"{w:F1}\" height=\"{rowH - 8}\" fill=\"{Colors[state]}\"><title>{E(name)} from {ps[i].Time:F6} s</title></rect>");
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
