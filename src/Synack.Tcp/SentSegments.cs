using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The segments in flight, in sequence order, with when each last went out and what is known of it
/// (SACKed, taken as lost, resent and not yet answered): what RACK (RFC 8985) reasons over and what
/// RFC 6675's pipe counts. One entry per segment sent; bounded by the send buffer, since only bytes
/// from SND.UNA to SND.MAX are held. Byte totals per mark are kept as marks change, so the pipe is
/// a subtraction, not a walk.
/// </summary>
internal sealed class SentSegments
{
    [Flags]
    public enum Mark : byte
    {
        None = 0,
        Sacked = 1,
        Lost = 2,
        /// <summary>Resent and not yet answered (Linux's TCPCB_SACKED_RETRANS).</summary>
        Resent = 4,
        /// <summary>Sent more than once, ever: an ACK or SACK of it may be for either copy.</summary>
        EverResent = 8,
    }

    public struct Segment
    {
        public SeqNum Start;
        public int Length;
        public TimeSpan SentAt;
        /// <summary>Which send this was, counting every send: orders sends made at the same instant (a virtual clock stands still).</summary>
        public long SendOrder;
        public Mark Marks;
        public readonly SeqNum End => Start + Length;
        public readonly bool Has(Mark m) => (Marks & m) != 0;
    }

    private Segment[] _items = new Segment[4]; // a request and its answer need no more; a bulk flow grows it
    private int _head, _count;
    private long _sends;

    public int Count => _count;

    /// <summary>Bytes taken as lost and not SACKed (resent or not): Linux's lost_out.</summary>
    public long LostBytes { get; private set; }
    /// <summary>Bytes taken as lost, not SACKed, not resent since: what recovery must send again.</summary>
    public long LostNotResentBytes { get; private set; }
    /// <summary>Bytes resent and not yet SACKed or acknowledged: Linux's retrans_out.</summary>
    public long ResentBytes { get; private set; }

    public ref readonly Segment this[int i] => ref _items[(_head + i) & (_items.Length - 1)];

    /// <summary>New data went out: a new entry at the end.</summary>
    public void Append(SeqNum start, int length, TimeSpan now)
    {
        if (length <= 0) return;
        if (_count == _items.Length) Grow();
        _items[(_head + _count) & (_items.Length - 1)] = new Segment { Start = start, Length = length, SentAt = now, SendOrder = ++_sends };
        _count++;
    }

    /// <summary>Bytes from <paramref name="start"/> went out again: every entry they touch was resent now.</summary>
    public void Resent(SeqNum start, int length, TimeSpan now)
    {
        var end = start + Math.Max(length, 1);
        // Only what went again is marked: a longer (TSO) entry is cut at the resent range's edges
        // (on its segment grid: an odd edge marks the whole segment it falls in).
        SplitOnGrid(start, _mss, roundUp: false);
        SplitOnGrid(end, _mss, roundUp: true);
        long order = ++_sends;
        for (int i = IndexAtOrAfter(start); i < _count; i++)
        {
            ref var s = ref At(i);
            if (s.Start >= end) break;
            s.SentAt = now;
            s.SendOrder = order;
            if (!s.Has(Mark.Sacked)) SetMarks(ref s, s.Marks | Mark.Resent | Mark.EverResent);
        }
    }

    /// <summary>Entry <paramref name="i"/> was SACKed.</summary>
    public void MarkSacked(int i)
    {
        ref var s = ref At(i);
        SetMarks(ref s, (s.Marks | Mark.Sacked) & ~(Mark.Lost | Mark.Resent));
    }

    /// <summary>Entry <paramref name="i"/> is lost; if it had been resent, that copy is lost too and it must go again.</summary>
    public void MarkLost(int i)
    {
        ref var s = ref At(i);
        SetMarks(ref s, (s.Marks | Mark.Lost) & ~Mark.Resent);
    }

    /// <summary>After a retransmission timeout every entry not SACKed is lost (Linux's tcp_enter_loss); SACKs are forgotten with the scoreboard.</summary>
    public void AllLost()
    {
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            SetMarks(ref s, (s.Marks | Mark.Lost) & ~(Mark.Resent | Mark.Sacked));
        }
    }

    /// <summary>A timeout proved spurious: nothing is lost after all (what was resent stays marked so).</summary>
    public void NoneLost()
    {
        for (int i = 0; i < _count; i++)
        {
            ref var s = ref At(i);
            if (s.Has(Mark.Lost)) SetMarks(ref s, s.Marks & ~Mark.Lost);
        }
    }

    /// <summary>
    /// Linux's RTT sample from an ACK's timing (tcp_clean_rtx_queue): when the oldest segment the
    /// cumulative ACK to <paramref name="ack"/> covers, not SACKed before, was sent. Null when it covers
    /// none such, or, by Karn's rule, any segment that was ever sent twice (either copy may be answered).
    /// </summary>
    public TimeSpan? FirstAckedSendTime(SeqNum ack)
    {
        TimeSpan? first = null;
        for (int i = 0; i < _count; i++)
        {
            ref readonly var s = ref this[i];
            if (s.Start >= ack) break;
            if (s.Has(Mark.EverResent)) return null;
            if (first is null && !s.Has(Mark.Sacked)) first = s.SentAt;
        }
        return first;
    }

    /// <summary>The cumulative ACK reached <paramref name="una"/>: entries wholly below it go; one cut by it is trimmed.</summary>
    public void AckedTo(SeqNum una)
    {
        while (_count > 0)
        {
            ref var s = ref _items[_head];
            if (s.End <= una)
            {
                SetMarks(ref s, Mark.None);
                _head = (_head + 1) & (_items.Length - 1);
                _count--;
                continue;
            }
            if (s.Start < una)
            {
                var marks = s.Marks;
                SetMarks(ref s, Mark.None);
                s.Length -= una - s.Start;
                s.Start = una;
                SetMarks(ref s, marks);
            }
            break;
        }
    }

    private int _mss = 1;

    /// <summary>The segment size entries are cut on (a peer's SACK edges between two segments' bytes cut nothing).</summary>
    public int Mss
    {
        get => _mss;
        set => _mss = Math.Max(value, 1);
    }

    /// <summary>
    /// Cuts the entry across <paramref name="at"/> on its own grid of whole segments (from its start):
    /// at the grid point at or after it (<paramref name="roundUp"/>) or at or before it. As Linux's
    /// tcp_match_skb_to_sack, never inside a segment — so however the peer places its SACK edges,
    /// the list holds no more entries than segments in flight.
    /// </summary>
    public void SplitOnGrid(SeqNum at, int mss, bool roundUp)
    {
        int i = IndexAtOrAfter(at);
        if (i >= _count) return;
        ref readonly var s = ref this[i];
        if (s.Start >= at) return;
        int offset = at - s.Start;
        int cut = roundUp ? (offset + mss - 1) / mss * mss : offset / mss * mss;
        if (cut <= 0 || cut >= s.Length) return;
        SplitAt(s.Start + cut);
    }

    /// <summary>Makes <paramref name="at"/> an entry boundary: the entry across it becomes two with the same marks and send time.</summary>
    public void SplitAt(SeqNum at)
    {
        int i = IndexAtOrAfter(at);
        if (i >= _count) return;
        ref var s = ref At(i);
        if (s.Start >= at) return;
        if (_count == _items.Length) Grow();
        // Room after entry i: move the rest one place on (the list is short: a flight of TSO segments).
        for (int k = _count; k > i + 1; k--) At(k) = At(k - 1);
        _count++;
        ref var first = ref At(i);
        var marks = first.Marks;
        SetMarks(ref first, Mark.None);
        var second = first;
        second.Length = first.End - at;
        second.Start = at;
        first.Length = at - first.Start;
        SetMarks(ref first, marks);
        At(i + 1) = second;
        ref var added = ref At(i + 1);
        added.Marks = Mark.None;
        SetMarks(ref added, marks);
    }

    /// <summary>The index of the first entry ending after <paramref name="seq"/> (entries are in order).</summary>
    public int IndexAtOrAfter(SeqNum seq)
    {
        int lo = 0, hi = _count;
        while (lo < hi)
        {
            int mid = (lo + hi) >> 1;
            if (this[mid].End <= seq) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    }

    public void Clear()
    {
        _head = 0;
        _count = 0;
        LostBytes = LostNotResentBytes = ResentBytes = 0;
    }

    private ref Segment At(int i) => ref _items[(_head + i) & (_items.Length - 1)];

    /// <summary>Every mark change goes through here, so the byte totals stay right.</summary>
    private void SetMarks(ref Segment s, Mark marks)
    {
        Tally(s, -1);
        s.Marks = marks;
        Tally(s, +1);
    }

    private void Tally(in Segment s, int sign)
    {
        if (s.Has(Mark.Sacked)) return;
        long n = (long)s.Length * sign;
        if (s.Has(Mark.Lost))
        {
            LostBytes += n;
            if (!s.Has(Mark.Resent)) LostNotResentBytes += n;
        }
        if (s.Has(Mark.Resent)) ResentBytes += n;
    }

    private void Grow()
    {
        var bigger = new Segment[_items.Length * 2];
        for (int i = 0; i < _count; i++) bigger[i] = this[i];
        _items = bigger;
        _head = 0;
    }
}
