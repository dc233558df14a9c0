using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

public enum TraceKind
{
    /// <summary>A segment left an endpoint.</summary>
    Sent,
    /// <summary>A segment was delivered to an endpoint and processed.</summary>
    Delivered,
    /// <summary>The link dropped a segment.</summary>
    Dropped,
    /// <summary>The link made a second copy of a segment.</summary>
    Duplicated,
    /// <summary>A segment failed to parse at the receiver (bad checksum, malformed).</summary>
    Rejected,
    StateChanged,
    Event,
    TimerFired,
    UserCall,
}

/// <summary>One segment as the trace and the ladder show it.</summary>
public sealed record SegmentInfo(
    string From,
    string To,
    TcpFlags Flags,
    SeqNum Seq,
    SeqNum Ack,
    int Length,
    ushort Window,
    TcpOptions Options,
    byte[] Packet)
{
    public bool Is(TcpFlags exactly) => Flags == exactly;
    public bool Has(TcpFlags bits) => (Flags & bits) == bits;
    public bool IsPureAck => Flags == TcpFlags.Ack && Length == 0;

    public override string ToString() =>
        $"{From}->{To} {Flags.ToShortString()} seq={Seq} ack={(Has(TcpFlags.Ack) ? Ack.ToString() : "-")} len={Length} win={Window}" +
        (Options.IsEmpty ? "" : $" <{Options}>");
}

/// <summary>One entry of the ordered trace: everything that happens lands here, in order.</summary>
public sealed record TraceEntry(
    long Index,
    TimeSpan Time,
    TraceKind Kind,
    string Endpoint,
    SegmentInfo? Segment = null,
    TcpState From = TcpState.Closed,
    TcpState To = TcpState.Closed,
    string Text = "",
    TcpState ClientState = TcpState.Closed,
    TcpState ServerState = TcpState.Closed)
{
    public override string ToString()
    {
        string t = $"{Time.TotalMilliseconds,10:F3}ms {Endpoint,-6} {Kind,-12}";
        return Kind switch
        {
            TraceKind.StateChanged => $"{t} {From.ToRfcName()} -> {To.ToRfcName()} ({Text})",
            _ when Segment is not null => $"{t} {Segment}" + (Text.Length > 0 ? $" ({Text})" : ""),
            _ => $"{t} {Text}",
        };
    }
}

/// <summary>The ordered record of a run.</summary>
public sealed class Trace
{
    private readonly List<TraceEntry> _entries = [];

    public IReadOnlyList<TraceEntry> Entries => _entries;

    public event Action<TraceEntry>? Appended;

    internal void Add(TraceEntry e)
    {
        _entries.Add(e);
        Appended?.Invoke(e);
    }

    internal long NextIndex => _entries.Count;

    public IEnumerable<SegmentInfo> Delivered() => Of(TraceKind.Delivered);
    public IEnumerable<SegmentInfo> Sent() => Of(TraceKind.Sent);

    private IEnumerable<SegmentInfo> Of(TraceKind kind)
    {
        foreach (var e in _entries)
        {
            if (e.Kind == kind && e.Segment is not null) yield return e.Segment;
        }
    }

    /// <summary>The states one endpoint went through, starting from its first state change.</summary>
    public IReadOnlyList<TcpState> StatesOf(string endpoint)
    {
        var states = new List<TcpState>();
        foreach (var e in _entries)
        {
            if (e.Kind != TraceKind.StateChanged || e.Endpoint != endpoint) continue;
            if (states.Count == 0) states.Add(e.From);
            states.Add(e.To);
        }
        return states;
    }

    public override string ToString() => string.Join(Environment.NewLine, _entries);
}
