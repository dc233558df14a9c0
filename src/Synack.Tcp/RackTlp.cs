using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// RFC 8985 in one place: RACK's loss detection by time, its reordering timer, and the tail loss
/// probe. RACK (section 6): the most recently sent segment the peer has delivered (acked or SACKed)
/// marks a point in time; any segment sent before it that is still unanswered a round trip plus a
/// reordering window later is lost — which also catches a lost retransmission. The window is zero
/// until reordering has been seen (and in recovery, or once three segments are SACKed), then a
/// quarter of the minimum RTT. TLP (section 7): when the ACKs stop with data in flight, one segment
/// goes two round trips later, so the peer's answer (a SACK, a D-SACK) tells recovery what the
/// retransmission timer would have learnt only after an RTO and a collapsed window.
/// </summary>
/// <remarks>
/// The sender makes one when data first goes out or is first acknowledged by SACK, so an idle
/// connection pays nothing for it; its record of segments in flight (<see cref="Sent"/>) exists only
/// while RACK keeps the books (on, with SACK agreed).
/// </remarks>
internal sealed class RackTlp(Sender sender, ConnectionOptions options)
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private static readonly TimeSpan WorstCaseDelayedAck = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MinProbeTimeout = TimeSpan.FromMilliseconds(10);

    private TimeSpan _xmitAt = TimeSpan.MinValue; // RACK.xmit_ts
    private long _order;                          // RACK.end_seq's role: which of the sends at RACK.xmit_ts
    private TimeSpan _rtt;                        // RACK.rtt
    private SeqNum _fack;                         // the highest byte the peer has delivered
    private bool _hasFack;

    // Tail loss probe (section 7).
    private bool _probeSent;      // one probe per tail, until SND.UNA moves
    private bool _probeResent;    // the probe resent data (rather than sending new)
    private SeqNum _probeEnd;

    /// <summary>RACK's record of the segments in flight (null until RACK keeps the books).</summary>
    public SentSegments? Sent { get; private set; }

    /// <summary>When the tail loss probe fires; never while nothing is in flight, in recovery, or a probe is out.</summary>
    public TimeSpan ProbeAt { get; set; } = Never;
    public int TailLossProbes { get; private set; }

    /// <summary>Reordering has been seen on this connection.</summary>
    public bool ReorderingSeen => ReorderingEvents > 0;
    /// <summary>How many ACKs showed reordering (Linux's reord_seen).</summary>
    public int ReorderingEvents { get; private set; }
    /// <summary>How far out of order deliveries have come, in segments (tcpi_reordering; starts at 3).</summary>
    public int Reordering { get; private set; } = LossRecovery.DupAckThreshold;
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
        if (latest > TimeSpan.Zero) TimerAt = now + latest + options.TimeoutMin; // Linux arms it this much late: its timers are no finer
        return marked;
    }

    /// <summary>After a retransmission timeout the marks are redone from scratch.</summary>
    public void Reset()
    {
        _xmitAt = TimeSpan.MinValue;
        TimerAt = Never;
    }

    // ------------------------------------------------------------------ RACK's books

    /// <summary>Data went out: RACK records it (sent anew, or again below SND.MAX).</summary>
    public void OnSent(SeqNum seq, int len, bool isNew, SeqNum max, int mss, TimeSpan now)
    {
        var sent = Sent ??= new SentSegments();
        sent.Mss = mss;
        int old = isNew ? 0 : Math.Min(len, max - seq);
        if (old > 0) sent.Resent(seq, old, now);
        if (len > old) sent.Append(seq + old, len - old, now);
    }

    /// <summary>
    /// A SACK block: every segment wholly inside it is delivered (a TSO segment is cut at the block's
    /// edges, on its segment grid: an edge inside a segment leaves that segment unSACKed).
    /// </summary>
    public void Sacked(SackBlock b, int mss, TimeSpan now, TimeSpan minRtt, ref SeqNum? reordered)
    {
        if (Sent is not { } sent) return;
        sent.SplitOnGrid(b.Left, mss, roundUp: true);
        sent.SplitOnGrid(b.Right, mss, roundUp: false);
        for (int k = sent.IndexAtOrAfter(b.Left); k < sent.Count; k++)
        {
            ref readonly var s = ref sent[k];
            if (s.Start >= b.Right) break;
            if (s.Start < b.Left || s.End > b.Right || s.Has(SentSegments.Mark.Sacked)) continue;
            Deliver(in s, now, minRtt, ref reordered);
            sent.MarkSacked(k);
        }
    }

    /// <summary>The cumulative ACK delivered the segments below it not SACKed before.</summary>
    public void DeliveredByAck(SeqNum ack, TimeSpan now, TimeSpan minRtt, ref SeqNum? reordered)
    {
        var sent = Sent!;
        for (int k = 0; k < sent.Count; k++)
        {
            ref readonly var s = ref sent[k];
            if (s.End > ack) break;
            if (!s.Has(SentSegments.Mark.Sacked)) Deliver(in s, now, minRtt, ref reordered);
        }
    }

    private void Deliver(in SentSegments.Segment s, TimeSpan now, TimeSpan minRtt, ref SeqNum? reordered)
    {
        Delivered(in s, now, minRtt);
        if (!s.Has(SentSegments.Mark.EverResent) && (reordered is not SeqNum low || s.Start < low)) reordered = s.Start;
    }

    /// <summary>The reordering timer fired: what its window now says is lost; true when anything was newly marked.</summary>
    public bool ReorderTimeout(TimeSpan now, bool inRecovery, int sackedSegments, TimeSpan minRtt, TimeSpan srtt)
    {
        TimerAt = Never;
        if (Sent is not { Count: > 0 } sent) return false;
        return DetectLoss(sent, now, inRecovery, sackedSegments, minRtt, srtt);
    }

    /// <summary>Back to LISTEN: nothing in flight.</summary>
    public void Forget() => Sent?.Clear();

    // ------------------------------------------------------------------ tail loss probe (section 7)

    /// <summary>
    /// SND.UNA moved to <paramref name="ack"/>: the tail has moved, so a probe may go again. True when a
    /// resent probe is what this ACK acknowledged without a D-SACK (7.4: the probe repaired a loss, and
    /// congestion control must hear of it as of one found by fast retransmit).
    /// </summary>
    public bool ProbeAcknowledged(SeqNum ack, in TcpOptions o)
    {
        bool repaired = _probeSent && _probeResent && ack >= _probeEnd && !HasDsack(in o, ack);
        _probeSent = false;
        return repaired;
    }

    /// <summary>Recovery began: no probe is due (one already out still counts until SND.UNA moves).</summary>
    public void CancelProbeTimer() => ProbeAt = Never;

    /// <summary>A timeout took over: no probe is out or due.</summary>
    public void CancelProbe()
    {
        ProbeAt = Never;
        _probeSent = false;
    }

    /// <summary>The peer SACKed the probe's last byte: what is still missing below it was lost.</summary>
    public bool ProbeSacked(SackScoreboard? board) => _probeSent && board is not null && board.Overlaps(_probeEnd - 1, _probeEnd);

    /// <summary>
    /// 7.2: two smoothed round trips after the last new data or forward ACK (plus the peer's worst
    /// delayed ACK when only one segment is out to be acked, else Linux's two jiffies); if the retransmission timer would come
    /// first, the probe takes its place (as Linux): a probe, not a collapse of the window.
    /// </summary>
    public void ArmProbe(TimeSpan now)
    {
        ProbeAt = Never;
        // 7.2: no probe in recovery, nor after a timeout (the timer's go-back-N is under way).
        if (!options.TailLossProbe || !sender.SackOk || sender.InFastRecovery || sender.InLossRecovery || _probeSent) return;
        // No round trip measured yet (the handshake's SYN was resent, say): the initial RTO, 1 s (RFC 8985
        // 7.2; Linux's TCP_TIMEOUT_INIT), so the probe still comes before RFC 6298 5.7's 3 s timeout.
        var pto = options.InitialRto;
        if (sender.Rto.HasSample)
        {
            pto = 2 * sender.Rto.Srtt;
            // Linux (tcp_schedule_loss_probe) adds its shortest timeout, two jiffies, when more than one
            // segment is out: an ACK arriving just after two round trips then stops the probe.
            pto += sender.Flight <= (uint)sender.Mss ? WorstCaseDelayedAck : options.TimeoutMin;
        }
        if (pto < MinProbeTimeout) pto = MinProbeTimeout;
        var rtx = sender.RetransmitAt;
        ProbeAt = rtx != Never && now + pto > rtx ? rtx : now + pto;
    }

    /// <summary>7.3: the probe — a new segment if the peer's window lets one go, else the last segment sent, again.</summary>
    public void TailLossProbe(TimeSpan now)
    {
        ProbeAt = Never;
        var s = sender;
        if (s.Una == s.Max || s.InFastRecovery || s.InLossRecovery) return;
        TailLossProbes++;
        _probeSent = true;
        var dataEnd = s.DataEnd;
        if (s.Nxt == s.Max && s.Nxt < dataEnd && s.Una + s.Wnd > s.Nxt)
        {
            int len = Math.Min(Math.Min(dataEnd - s.Nxt, s.Mss), s.Una + s.Wnd - s.Nxt);
            _probeResent = false;
            s.SendData(s.Nxt, len, fin: len == dataEnd - s.Nxt && s.FinQueued, now);
        }
        else if (s.Scoreboard is { IsEmpty: false })
        {
            // The peer has SACKed data above a hole: the hole is what it lacks, so that is the probe.
            _probeResent = true;
            s.Recovery.ResendFirstHole(now);
        }
        else
        {
            // The last segment sent (cut where the segmentation cut it: full segments from SND.UNA), and
            // the FIN if that is what ends the flight. It ends at SND.MAX, not at the end of the
            // buffer: data the window held back was never sent and is no probe.
            bool finOut = s.FinQueued && s.Max == dataEnd + 1;
            var sentEnd = finOut ? dataEnd : s.Max;
            int outstanding = Math.Max(sentEnd - s.Una, 0);
            int len = outstanding == 0 ? 0 : (outstanding - 1) % s.Mss + 1;
            _probeResent = true;
            s.StopTiming(); // Karn
            s.SendData(sentEnd - len, len, finOut, now, advance: false);
        }
        _probeEnd = s.Max;
        s.RestartRetransmissionTimer(now); // 7.3: the retransmission timer starts again behind the probe
    }

    /// <summary>RFC 2883: a first SACK block below the cumulative ACK, or inside the second block, reports a duplicate.</summary>
    public static bool HasDsack(in TcpOptions o, SeqNum ack) =>
        o.SackBlockCount > 0 && (o.SackBlocks[0].Left < ack
            || o.SackBlockCount > 1 && o.SackBlocks[0].Left >= o.SackBlocks[1].Left && o.SackBlocks[0].Right <= o.SackBlocks[1].Right);
}
