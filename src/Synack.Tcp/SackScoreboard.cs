using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The sender's record of what the peer has SACKed above SND.UNA (RFC 6675's scoreboard): sorted,
/// disjoint ranges, at most <see cref="ReassemblyQueue.MaxRanges"/> of them whatever the peer sends.
/// Loss recovery reads it to know which holes to fill and how much is still in the network.
/// </summary>
internal sealed class SackScoreboard
{
    private readonly ReassemblyQueue _ranges = new();

    public int Count => _ranges.Count;
    public bool IsEmpty => _ranges.IsEmpty;

    /// <summary>Records a block; false when the board has no room left for another range.</summary>
    public bool Add(SeqNum left, SeqNum right) => _ranges.Add(left, right, out _, out _);

    /// <summary>SND.UNA moved to <paramref name="una"/>: ranges it reached are no longer above it.</summary>
    public void Advance(SeqNum una) => _ranges.Advance(una);

    public void Clear() => _ranges.Clear();

    /// <summary>Whether any SACKed byte lies in [start, end).</summary>
    public bool Overlaps(SeqNum start, SeqNum end) => _ranges.FirstOverlap(start, end) is not null;

    /// <summary>Bytes SACKed in all.</summary>
    public int SackedBytes
    {
        get
        {
            int n = 0;
            for (int i = 0; i < _ranges.Count; i++) n += _ranges[i].End - _ranges[i].Start;
            return n;
        }
    }

    /// <summary>Bytes SACKed below <paramref name="edge"/>.</summary>
    public int SackedBelow(SeqNum edge)
    {
        int n = 0;
        for (int i = 0; i < _ranges.Count; i++)
        {
            var r = _ranges[i];
            if (r.Start >= edge) continue;
            n += (r.End < edge ? r.End : edge) - r.Start;
        }
        return n;
    }

    /// <summary>The end of the highest SACKed range, or <paramref name="una"/> when there is none above it.</summary>
    public SeqNum Highest(SeqNum una)
    {
        SeqNum highest = una;
        for (int i = 0; i < _ranges.Count; i++) if (_ranges[i].End > highest) highest = _ranges[i].End;
        return highest;
    }

    /// <summary>Bytes from <paramref name="from"/> up to the highest SACKed byte that the peer has not SACKed.</summary>
    public int HoleBytes(SeqNum from, SeqNum una)
    {
        if (IsEmpty) return 0;
        var highest = Highest(una);
        if (highest <= from) return 0;
        return (highest - from) - (SackedBelow(highest) - SackedBelow(from));
    }

    /// <summary>
    /// The first stretch at or after <paramref name="start"/> that the peer has not SACKed: it starts
    /// past any range covering <paramref name="start"/> and ends at the next range, or at the highest
    /// SACKed byte (past it nothing is known lost), or at <paramref name="max"/> when nothing is SACKed.
    /// </summary>
    public (SeqNum Start, SeqNum Limit) NextHole(SeqNum start, SeqNum max, SeqNum una)
    {
        var limit = max;
        var highest = Highest(una);
        for (int i = 0; i < _ranges.Count; i++)
        {
            var r = _ranges[i];
            if (r.Start <= start && r.End > start) start = r.End;
        }
        if (!IsEmpty) limit = highest;
        for (int i = 0; i < _ranges.Count; i++)
        {
            var r = _ranges[i];
            if (r.Start > start && r.Start < limit)
            {
                limit = r.Start;
                break;
            }
        }
        return (start, limit);
    }
}
