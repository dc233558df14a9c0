using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// Where the application's records end in the send stream (a send with MSG_EOR): no segment reaches
/// past one, as Linux appends nothing to an skb marked EOR, so a record starts a segment of its own.
/// Made at the first such send; at most <see cref="Limit"/> ends wait at once (past that, records may
/// share a segment: memory stays bounded whatever the application does).
/// </summary>
internal sealed class RecordEnds
{
    public const int Limit = 4096;
    private readonly Queue<SeqNum> _ends = new();
    private SeqNum _last;

    public void Add(SeqNum end)
    {
        if (_ends.Count >= Limit || _ends.Count > 0 && end <= _last) return;
        _ends.Enqueue(end);
        _last = end;
    }

    /// <summary>The first record end after <paramref name="seq"/>, or null; ends at or before <paramref name="una"/> are forgotten.</summary>
    public SeqNum? After(SeqNum seq, SeqNum una)
    {
        while (_ends.TryPeek(out var first) && first <= una) _ends.Dequeue();
        foreach (var end in _ends)
        {
            if (end > seq) return end;
        }
        return null;
    }

    public bool IsEnd(SeqNum seq)
    {
        foreach (var end in _ends)
        {
            if (end == seq) return true;
            if (end > seq) return false;
        }
        return false;
    }
}
