using Synack.Tcp;

namespace Synack.Scenarios;

/// <summary>The ordered record of a run.</summary>
public sealed class Trace
{
    private readonly List<TraceEntry> _entries = [];

    /// <summary>The entries in the order they happened.</summary>
    public IReadOnlyList<TraceEntry> Entries => _entries;

    /// <summary>Raised for each entry as it is added.</summary>
    public event Action<TraceEntry>? Appended;

    internal void Add(TraceEntry e)
    {
        _entries.Add(e);
        Appended?.Invoke(e);
    }

    internal long NextIndex => _entries.Count;

    /// <summary>The segments delivered to an endpoint.</summary>
    public IEnumerable<SegmentInfo> Delivered() => Of(TraceKind.Delivered);
    /// <summary>The segments sent by an endpoint.</summary>
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

    /// <summary>Every entry, one per line.</summary>
    public override string ToString() => string.Join(Environment.NewLine, _entries);
}
