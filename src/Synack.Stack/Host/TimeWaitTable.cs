using Synack.Wire;

namespace Synack.Stack;

internal sealed class TimeWaitTable
{
    private readonly Dictionary<FourTuple, TimeWaitEntry> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(in FourTuple t, out TimeWaitEntry entry) => _entries.TryGetValue(t, out entry!);

    public void Add(TimeWaitEntry e) => _entries[e.Tuple] = e;

    public bool Remove(in FourTuple t) => _entries.Remove(t);

    public IEnumerable<TimeWaitEntry> Entries => _entries.Values;
}
