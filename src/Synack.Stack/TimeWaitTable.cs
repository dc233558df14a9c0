using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>A TIME-WAIT connection in the stack's table: its <see cref="TimeWaitState"/> and its place on the wheel.</summary>
internal sealed class TimeWaitEntry(NetworkStack stack, TimeWaitState state) : TimedEntry
{
    public TimeWaitState State { get; } = state;
    public FourTuple Tuple => State.Tuple;

    public override void Expire(TimeSpan now) => stack.ExpireTimeWait(this, now);
}

internal sealed class TimeWaitTable
{
    private readonly Dictionary<FourTuple, TimeWaitEntry> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(in FourTuple t, out TimeWaitEntry entry) => _entries.TryGetValue(t, out entry!);

    public void Add(TimeWaitEntry e) => _entries[e.Tuple] = e;

    public bool Remove(in FourTuple t) => _entries.Remove(t);

    public IEnumerable<TimeWaitEntry> Entries => _entries.Values;
}
