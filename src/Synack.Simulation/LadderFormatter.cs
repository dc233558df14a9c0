using System.Globalization;
using System.Text;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>
/// The text ladder: one line per segment (delivered or lost) with time, direction, flags, absolute and
/// relative seq and ack, length, window, options, and both endpoints' states after it. Relative numbers
/// count from each side's ISN as Wireshark does (the ISN shows as 0).
/// </summary>
public static class LadderFormatter
{
    public static string Format(Trace trace, bool showTimers = true)
    {
        var sb = new StringBuilder();
        sb.AppendLine(CultureInfo.InvariantCulture,
            $"{"time ms",10}  {"client",-13} {"",3}{"flags",-5} {"seq (rel)",-22} {"ack (rel)",-22} {"len",5} {"win",6} {"",3} {"server",-13} options");
        var isn = new Dictionary<string, SeqNum>();
        var states = new Dictionary<string, TcpState> { ["client"] = TcpState.Closed, ["server"] = TcpState.Closed };
        var entries = trace.Entries;
        for (int i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            switch (e.Kind)
            {
                case TraceKind.StateChanged:
                    states[e.Endpoint] = e.To;
                    continue;
                case TraceKind.TimerFired when showTimers:
                case TraceKind.UserCall:
                    ApplyFollowingStates(entries, i, states);
                    sb.AppendLine(CultureInfo.InvariantCulture,
                        $"{e.Time.TotalMilliseconds,10:F3}  {Name(states["client"]),-13} {"",3}{"",-5} {(e.Kind == TraceKind.UserCall ? "" : "timer ")}{e.Endpoint}: {e.Text}");
                    continue;
                case TraceKind.Delivered:
                case TraceKind.Dropped:
                    break;
                default:
                    continue;
            }
            var s = e.Segment!;
            if (s.Has(TcpFlags.Syn)) isn[s.From] = s.Seq; // a new SYN is a new ISN: relative numbers restart
            bool lost = e.Kind == TraceKind.Dropped;
            if (!lost) ApplyFollowingStates(entries, i, states);
            string seq = Rel(s.Seq, s.From, isn);
            string ack = s.Has(TcpFlags.Ack) ? Rel(s.Ack, s.To, isn) : "0";
            bool toServer = s.From == "client";
            string left = toServer ? "-->" : (lost ? "x--" : "<--");
            string right = toServer ? (lost ? "--x" : "-->") : "---";
            if (!toServer) left = lost ? "x--" : "<--";
            sb.Append(CultureInfo.InvariantCulture, $"{e.Time.TotalMilliseconds,10:F3}  {Name(states["client"]),-13} ");
            sb.Append(toServer ? "   " : left);
            sb.Append(CultureInfo.InvariantCulture, $"{s.Flags.ToShortString(),-5} {seq,-22} {ack,-22} {s.Length,5} {s.Window,6} ");
            sb.Append(toServer ? right : "   ");
            sb.Append(CultureInfo.InvariantCulture, $" {Name(states["server"]),-13} {TcpOptionText.Describe(s.Packet)}");
            if (lost) sb.Append(CultureInfo.InvariantCulture, $"  [lost: {e.Text}]");
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>The states after an input are the ones its processing reached, recorded right after it.</summary>
    private static void ApplyFollowingStates(IReadOnlyList<TraceEntry> entries, int i, Dictionary<string, TcpState> states)
    {
        for (int j = i + 1; j < entries.Count; j++)
        {
            var n = entries[j];
            if (n.Kind is TraceKind.Delivered or TraceKind.TimerFired or TraceKind.UserCall || n.Time != entries[i].Time) break;
            if (n.Kind == TraceKind.StateChanged) states[n.Endpoint] = n.To;
        }
    }

    private static string Rel(SeqNum n, string side, Dictionary<string, SeqNum> isn) =>
        isn.TryGetValue(side, out var b) ? $"{n} ({unchecked(n.Value - b.Value)})" : $"{n}";

    private static string Name(TcpState s) => s.ToRfcName();
}
