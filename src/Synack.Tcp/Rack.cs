using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// RACK (RFC 8985 section 6): losses found by time rather than by counting duplicate ACKs. The
/// most recently sent segment the peer has delivered (acked or SACKed) marks a point in time; any
/// segment sent before it that is still unanswered a round trip plus a reordering window later is
/// lost — which also catches a lost retransmission. The window is zero until reordering has been
/// seen (and in recovery, or once three segments are SACKed), then a quarter of the minimum RTT.
/// </summary>
internal sealed class Rack
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    /// <summary>Linux arms the reordering timer this much late (TCP_TIMEOUT_MIN): timers are no finer.</summary>
    private static readonly TimeSpan TimerSlop = TimeSpan.FromMilliseconds(2);

    private TimeSpan _xmitAt = TimeSpan.MinValue; // RACK.xmit_ts
    private long _order;                          // RACK.end_seq's role: which of the sends at RACK.xmit_ts
    private TimeSpan _rtt;                        // RACK.rtt
    private SeqNum _fack;                         // the highest byte the peer has delivered
    private bool _hasFack;

    /// <summary>Reordering has been seen on this connection.</summary>
    public bool ReorderingSeen => ReorderingEvents > 0;
    /// <summary>How many ACKs showed reordering (Linux's reord_seen).</summary>
    public int ReorderingEvents { get; private set; }
    /// <summary>How far out of order deliveries have come, in segments (tcpi_reordering; starts at 3).</summary>
    public int Reordering { get; private set; } = 3;
    /// <summary>When to look again for segments whose reordering window has passed.</summary>
    public TimeSpan TimerAt { get; set; } = Never;

    /// <summary>The highest end delivered before the ACK being processed (Linux's prior_fack), for the reordering check.</summary>
    public SeqNum PriorFack(SeqNum una) => _hasFack && _fack > una ? _fack : una;

    /// <summary>6.2 steps 1-3: a segment was delivered by this ACK.</summary>
    public void Delivered(in SentSegments.Segment s, TimeSpan now, TimeSpan minRtt)
    {
        if (!_hasFack || s.End > _fack)
        {
            _fack = s.End;
            _hasFack = true;
        }
        var rtt = now - s.SentAt;
        // An answer to a resent segment sooner than the minimum RTT is the original copy's: it says
        // nothing about when the resent one was delivered.
        if (s.Has(SentSegments.Mark.EverResent) && rtt < minRtt) return;
        if (s.SentAt > _xmitAt || s.SentAt == _xmitAt && s.SendOrder > _order)
        {
            _xmitAt = s.SentAt;
            _order = s.SendOrder;
            _rtt = rtt;
        }
    }

    /// <summary>
    /// A segment never resent was delivered below what had already been delivered: the network
    /// reordered. <paramref name="low"/> is the lowest such start in this ACK.
    /// </summary>
    public void Reordered(SeqNum low, SeqNum priorFack, int mss)
    {
        if (low >= priorFack) return;
        ReorderingEvents++;
        int metric = priorFack - low;
        if (mss > 0 && metric > Reordering * mss) Reordering = Math.Min((metric + mss - 1) / mss, 300);
    }

    /// <summary>6.2 step 4: the reordering window.</summary>
    private TimeSpan ReorderWindow(bool inRecovery, int sackedSegments, TimeSpan minRtt, TimeSpan srtt)
    {
        if (!ReorderingSeen && (inRecovery || sackedSegments >= Reordering)) return TimeSpan.Zero;
        var w = minRtt / 4;
        return w < srtt ? w : srtt;
    }

    /// <summary>6.2 step 5: marks what is lost now and arms the timer for what may be; true when anything was newly marked.</summary>
    public bool DetectLoss(SentSegments sent, TimeSpan now, bool inRecovery, int sackedSegments, TimeSpan minRtt, TimeSpan srtt)
    {
        TimerAt = Never;
        if (_xmitAt == TimeSpan.MinValue) return false;
        var window = ReorderWindow(inRecovery, sackedSegments, minRtt, srtt);
        var latest = TimeSpan.Zero;
        bool marked = false;
        for (int i = 0; i < sent.Count; i++)
        {
            ref readonly var s = ref sent[i];
            if (s.Has(SentSegments.Mark.Sacked)) continue;
            if (s.Has(SentSegments.Mark.Lost) && !s.Has(SentSegments.Mark.Resent)) continue; // already waiting to go again
            // Only what was sent before the one delivered (RFC 8985 breaks time ties by sequence; here
            // sends at one instant are told apart by their order, so a resend after new data counts as later).
            if (!(s.SentAt < _xmitAt || s.SentAt == _xmitAt && s.SendOrder < _order)) continue;
            var remaining = s.SentAt + _rtt + window - now;
            if (remaining <= TimeSpan.Zero)
            {
                sent.MarkLost(i);
                marked = true;
            }
            else if (remaining > latest)
            {
                latest = remaining;
            }
        }
        if (latest > TimeSpan.Zero) TimerAt = now + latest + TimerSlop;
        return marked;
    }

    /// <summary>After a retransmission timeout the marks are redone from scratch.</summary>
    public void Reset()
    {
        _xmitAt = TimeSpan.MinValue;
        TimerAt = Never;
    }
}
