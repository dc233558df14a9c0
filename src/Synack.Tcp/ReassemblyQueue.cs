using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// Which sequence ranges beyond RCV.NXT have arrived out of order. The bytes themselves sit in the
/// receive ring at their place past the in-order data (the acceptance window never exceeds the free
/// space, so they always fit); this keeps only the ranges: sorted, disjoint, never touching, and at
/// most <see cref="MaxRanges"/> of them, so a hostile peer cannot grow it without bound.
/// </summary>
internal sealed class ReassemblyQueue
{
    public const int MaxRanges = 32;
    private readonly (SeqNum Start, SeqNum End)[] _ranges = new (SeqNum, SeqNum)[MaxRanges];
    private int _count;

    public int Count => _count;
    public bool IsEmpty => _count == 0;
    public (SeqNum Start, SeqNum End) this[int i] => _ranges[i];

    /// <summary>The lowest part of [start, end) already held, or null (for a D-SACK block, RFC 2883).</summary>
    public (SeqNum Start, SeqNum End)? FirstOverlap(SeqNum start, SeqNum end)
    {
        for (int i = 0; i < _count; i++)
        {
            var (s, e) = _ranges[i];
            if (e <= start) continue;
            if (s >= end) break;
            return (SeqNum.Max(s, start), e < end ? e : end);
        }
        return null;
    }

    /// <summary>
    /// Records [start, end) and merges it with what it touches. Returns false (and records nothing)
    /// when that would need more than <see cref="MaxRanges"/> ranges; otherwise the merged range.
    /// </summary>
    public bool Add(SeqNum start, SeqNum end, out SeqNum mergedStart, out SeqNum mergedEnd)
    {
        mergedStart = start;
        mergedEnd = end;
        int first = 0;
        while (first < _count && _ranges[first].End < start) first++;
        int last = first;
        while (last < _count && _ranges[last].Start <= end)
        {
            if (_ranges[last].Start < mergedStart) mergedStart = _ranges[last].Start;
            if (_ranges[last].End > mergedEnd) mergedEnd = _ranges[last].End;
            last++;
        }
        int merged = last - first; // ranges [first, last) become one
        if (merged == 0 && _count == MaxRanges) return false;
        int shift = 1 - merged;
        if (shift != 0) Array.Copy(_ranges, last, _ranges, last + shift, _count - last);
        _ranges[first] = (mergedStart, mergedEnd);
        _count += shift;
        return true;
    }

    /// <summary>RCV.NXT has moved to <paramref name="next"/>: takes every range it now reaches and returns the new RCV.NXT.</summary>
    public SeqNum Advance(SeqNum next)
    {
        int taken = 0;
        while (taken < _count && _ranges[taken].Start <= next)
        {
            if (_ranges[taken].End > next) next = _ranges[taken].End;
            taken++;
        }
        if (taken > 0)
        {
            Array.Copy(_ranges, taken, _ranges, 0, _count - taken);
            _count -= taken;
        }
        return next;
    }

    public void Clear() => _count = 0;
}
