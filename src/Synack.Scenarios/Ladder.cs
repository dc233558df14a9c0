using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// The ladder model of a trace: what the text ladder prints and the tests assert. The states after a
/// delivered segment are the ones its processing reached (the state changes recorded right after it).
/// Relative numbers count from each side's ISN as Wireshark does; a new SYN starts them again.
/// </summary>
public static class Ladder
{
    /// <summary>The ladder's rows: segments, and optionally user calls and timers, with both endpoints' states after each.</summary>
    public static IReadOnlyList<LadderRow> Build(Trace trace, bool includeCalls = true, bool includeTimers = true)
    {
        var rows = new List<LadderRow>();
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
                case TraceKind.UserCall when includeCalls:
                case TraceKind.TimerFired when includeTimers:
                    ApplyFollowingStates(entries, i, states);
                    string note = e.Kind == TraceKind.UserCall ? $"{e.Endpoint}: {e.Text}" : $"timer {e.Endpoint}: {e.Text}";
                    rows.Add(new LadderRow(e.Time, null, false, note, states["client"], states["server"], null, null));
                    continue;
                case TraceKind.Delivered:
                case TraceKind.Dropped:
                    break;
                default:
                    continue;
            }
            var s = e.Segment!;
            if (s.Has(TcpFlags.Syn)) isn[s.From] = s.Seq;
            bool lost = e.Kind == TraceKind.Dropped;
            if (!lost) ApplyFollowingStates(entries, i, states);
            uint? relSeq = isn.TryGetValue(s.From, out var a) ? unchecked(s.Seq.Value - a.Value) : null;
            uint? relAck = s.Has(TcpFlags.Ack) ? (isn.TryGetValue(s.To, out var b) ? unchecked(s.Ack.Value - b.Value) : null) : 0;
            rows.Add(new LadderRow(e.Time, s, lost, lost ? e.Text : "", states["client"], states["server"], relSeq, relAck));
        }
        return rows;
    }

    private static void ApplyFollowingStates(IReadOnlyList<TraceEntry> entries, int i, Dictionary<string, TcpState> states)
    {
        for (int j = i + 1; j < entries.Count; j++)
        {
            var n = entries[j];
            if (n.Kind is TraceKind.Delivered or TraceKind.TimerFired or TraceKind.UserCall || n.Time != entries[i].Time) break;
            if (n.Kind == TraceKind.StateChanged) states[n.Endpoint] = n.To;
        }
    }
}
