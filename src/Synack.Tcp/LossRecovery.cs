using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// What the sender does once it believes data was lost, behind one surface with two variants (as
/// gVisor's sack_recovery and reno_recovery): <see cref="SackRecovery"/>, RFC 6675's pipe with RFC
/// 6937's proportional rate reduction (Linux), and <see cref="NewRenoRecovery"/>, RFC 5681's fast
/// recovery with window inflation and RFC 6582's partial ACKs (FreeBSD). Both keep here what an
/// episode shares: the duplicate-ACK count, the recovery point, how far holes were resent, the SACK
/// scoreboard, the state after a retransmission timeout (go-back-N until SND.UNA passes what was
/// outstanding), F-RTO (RFC 5682) and the undo of a reduction the ACKs prove was not needed (RFC
/// 3522/4015 by timestamps, Linux's by D-SACK).
/// </summary>
/// <remarks>
/// The sender makes one at the first sign of trouble (a duplicate ACK, a SACK block, a timeout, an
/// ECN echo), so a connection that never sees one pays nothing for it.
/// </remarks>
internal abstract class LossRecovery(Sender sender, ConnectionOptions options)
{
    /// <summary>Duplicate ACKs that mean a segment was lost (RFC 5681 3.2): the one definition.</summary>
    public const int DupAckThreshold = 3;
    private static readonly TimeSpan Never = TimeSpan.MaxValue;

    protected readonly Sender S = sender;
    protected readonly ConnectionOptions O = options;

    /// <summary>Duplicate ACKs in a row.</summary>
    public int DupAcks { get; set; }
    /// <summary>In fast recovery (Linux's Recovery state).</summary>
    public bool InRecovery { get; protected set; }
    /// <summary>SND.MAX when recovery began: an ACK past it ends recovery.</summary>
    protected SeqNum Recover;
    /// <summary>Below this, holes have been resent in this recovery.</summary>
    public SeqNum RtxHighest { get; protected set; }
    /// <summary>Ranges above SND.UNA the peer has SACKed (bounded); null until the first block.</summary>
    public SackScoreboard? Scoreboard { get; private set; }
    /// <summary>After a timeout, until SND.UNA passes what was outstanding then (Linux's Loss state).</summary>
    public bool InLoss { get; private set; }
    private SeqNum _lossRecover;
    /// <summary>RFC 6937 PRR, F-RTO and the undo's bookkeeping, made when first needed.</summary>
    protected ReductionState? Reduction;

    /// <summary>SACK blocks ignored: about nothing in flight, or with no room left on the scoreboard.</summary>
    public long SackBlocksRefused { get; private set; }
    public int SpuriousRecoveries => Reduction?.SpuriousRecoveries ?? 0;
    public int SpuriousTimeouts => Reduction?.SpuriousTimeouts ?? 0;
    /// <summary>An ECN echo's window reduction is under way (PRR's CWR).</summary>
    public bool InCongestionWindowReduction => Reduction is { Active: true, Cwr: true };

    private bool Racking => S.Racking;

    public int SackedBytes => Scoreboard?.SackedBytes ?? 0;

    /// <summary>
    /// Bytes taken as lost, resent since or not (Linux's lost_out): with RACK what it marked; else in
    /// fast recovery the holes below the highest SACK; after a timeout everything outstanding then.
    /// </summary>
    public long LostBytes
    {
        get
        {
            if (Racking && S.Detection?.Sent is { } sent) return sent.LostBytes;
            if (InLoss) return Math.Max(0, (S.Max < _lossRecover ? S.Max : _lossRecover) - S.Una);
            return InRecovery ? Scoreboard?.HoleBytes(S.Una, S.Una) ?? 0 : 0;
        }
    }

    /// <summary>Bytes taken as lost and not resent since: what recovery has still to send again.</summary>
    protected long LostNotResentBytes
    {
        get
        {
            if (Racking && S.Detection?.Sent is { } sent) return sent.LostNotResentBytes;
            if (InLoss) return Math.Max(0, (S.Max < _lossRecover ? S.Max : _lossRecover) - S.Nxt);
            if (!InRecovery) return 0;
            return Scoreboard?.HoleBytes(RtxHighest > S.Una ? RtxHighest : S.Una, S.Una) ?? 0;
        }
    }

    /// <summary>Resent bytes still unacknowledged (Linux's retrans_out).</summary>
    public long RetransmittedOutstanding
    {
        get
        {
            if (Racking && S.Detection?.Sent is { } sent) return sent.ResentBytes;
            if (InLoss) return Math.Max(0, S.Nxt - S.Una);
            if (!InRecovery || RtxHighest <= S.Una) return 0;
            return (RtxHighest - S.Una) - (Scoreboard?.SackedBelow(RtxHighest) ?? 0);
        }
    }

    /// <summary>RFC 6675's pipe: bytes in flight, less those SACKed and those taken as lost and not resent.</summary>
    public long Pipe => (long)S.Flight - SackedBytes - LostNotResentBytes;

    // ------------------------------------------------------------------ the SACK scoreboard

    /// <summary>Records the peer's SACK blocks; with RACK, the segments they deliver.</summary>
    public void RecordSacks(in TcpOptions o, TimeSpan now, ref SeqNum? reordered)
    {
        var board = Scoreboard ??= new SackScoreboard();
        for (int i = 0; i < o.SackBlockCount; i++)
        {
            var b = o.SackBlocks[i];
            // Only blocks about data in flight count; D-SACK blocks (below SND.UNA) and nonsense are ignored.
            if (b.Right > S.Max || b.Right <= b.Left)
            {
                SackBlocksRefused++;
                continue;
            }
            if (b.Left <= S.Una) continue;
            if (!board.Add(b.Left, b.Right))
            {
                SackBlocksRefused++;
                continue;
            }
            // RACK's record exists once data went out (OnSent made it); without it nothing is delivered.
            if (Racking) S.Detection?.Sacked(b, S.Mss, now, S.Rto.MinRtt, ref reordered);
        }
    }

    // ------------------------------------------------------------------ what the sender's ACK processing asks

    /// <summary>Bytes lost before this ACK, for PRR's choice between its two catch-up rules.</summary>
    public long LostBefore(bool prr) => prr && InRecovery ? LostBytes : 0;

    /// <summary>Whether this ACK acknowledges data resent in this recovery (PRR-CRB's condition).</summary>
    public bool AcksRetransmission(SeqNum ack, bool prr) =>
        prr && InRecovery && ack > S.Una
        && (Racking ? S.Detection?.Sent is { ResentBytes: > 0 } sent && sent[0].Has(SentSegments.Mark.EverResent) : S.Una < RtxHighest);

    /// <summary>An ACK is about to move SND.UNA: the timestamp it echoes may prove the timeout spurious.</summary>
    public void BeforeAdvance(uint? echoedSendMs)
    {
        if (InLoss && Reduction is { UndoArmed: true } undo && echoedSendMs is uint echoed && unchecked((int)(echoed - undo.TimeoutMs)) < 0)
            UndoSpuriousTimeout(undo);
    }

    /// <summary>SND.UNA has moved (the sender's own books are done): the Loss state may end, F-RTO steps on.</summary>
    public void Advanced()
    {
        if (InLoss && S.Una >= _lossRecover) InLoss = false;
        if (S.Nxt < S.Una) S.Nxt = S.Una;
        if (InLoss && Reduction is { FrtoStage: > 0 } frto) ForwardRtoAdvance(frto);
    }

    /// <summary>
    /// After the sender's books moved with SND.UNA: recovery ends past its point, a partial ACK resends
    /// (NewReno), an ECN reduction ends past its round. True when the ACK belonged to an episode, so
    /// the congestion window must not grow on it.
    /// </summary>
    public bool AfterAdvance(int acked, TimeSpan now, bool prr)
    {
        if (InRecovery)
        {
            if (S.Una >= Recover) ExitRecovery(now);
            else if (!prr) OnPartialAck(acked, now);
            return true;
        }
        if (Reduction is { Active: true, Cwr: true } cwr)
        {
            if (S.Una >= cwr.End)
            {
                cwr.Active = false;
                S.Congestion.EndReduction();
            }
            return true;
        }
        return false;
    }

    /// <summary>A duplicate ACK. F-RTO takes it as proof the timeout was real; otherwise fast retransmit counts it.</summary>
    public void OnDuplicateAck(TimeSpan now)
    {
        if (Reduction is { FrtoStage: > 0 } frto)
        {
            // RFC 5682 2a/3a: a duplicate ACK after the retransmission: the loss was real. Back to
            // go-back-N from the hole, with no more than three segments' window if new data went.
            if (frto.FrtoStage == 2)
            {
                S.Nxt = S.Una;
                S.Congestion.SetWindow(Math.Min(S.Congestion.Window, 3u * (uint)S.Mss));
            }
            frto.FrtoStage = 0;
            return;
        }
        if (!O.FastRetransmit) return;
        DupAcks++;
        if (InRecovery)
        {
            DuplicateAckInRecovery(now);
            return;
        }
        // RFC 8985: a probe the peer SACKs was sent after everything below it that is still missing, so
        // all of that is lost (RACK's rule, for the probe): recovery starts without waiting for three.
        bool probeSacked = S.Detection?.ProbeSacked(Scoreboard) == true;
        if (DupAcks < DupAckThreshold && !probeSacked)
        {
            if (O.LimitedTransmit) S.Output(now); // RFC 3042: new data on the first two duplicate ACKs
            return;
        }
        LossByDuplicateAcks(now);
    }

    /// <summary>A D-SACK arrived: count it against the episode's retransmissions.</summary>
    public void OnDsack(in TcpOptions o, SeqNum ack, TimeSpan now)
    {
        if (Reduction is { RecoveryUndoArmed: true } undo && o.SackBlockCount > 0 && RackTlp.HasDsack(in o, ack)) DsackReported(undo, in o, now);
    }

    /// <summary>RACK found losses by time (after this ACK, or when its timer fired).</summary>
    public virtual void LossByTime(TimeSpan now, bool timer) { }

    /// <summary>After the ACK's loss detection: PRR paces the reduction by what the ACK delivered.</summary>
    public virtual void AfterAck(long delivered, bool retransmittedAcked, long lostBefore, TimeSpan now) { }

    /// <summary>Sends what recovery allows; false when the sender's ordinary output should run instead.</summary>
    public virtual bool Output(TimeSpan now) => false;

    /// <summary>RFC 3042 limited transmit: how far past the congestion window the first two duplicate ACKs let new data go.</summary>
    public uint LimitedTransmitAllowance =>
        O.LimitedTransmit && !InRecovery && DupAcks is 1 or 2 && S.Nxt >= S.Max ? (uint)(DupAcks * S.Mss) : 0;

    /// <summary>An ECN echo: the window comes down over the next round (PRR's CWR), nothing resent.</summary>
    public void StartCongestionWindowReduction(TimeSpan now)
    {
        if (InRecovery || InLoss || Reduction is { Active: true }) return;
        uint prior = S.Congestion.Window;
        S.Congestion.StartReduction(S.Flight, now);
        (Reduction ??= new ReductionState()).Start(prior, cwr: true, S.Max);
    }

    // ------------------------------------------------------------------ what each variant does

    /// <summary>Three duplicate ACKs (or a SACKed probe) outside recovery.</summary>
    protected abstract void LossByDuplicateAcks(TimeSpan now);

    /// <summary>A further duplicate ACK during recovery.</summary>
    protected abstract void DuplicateAckInRecovery(TimeSpan now);

    /// <summary>An ACK that moves SND.UNA but not past the recovery point (RFC 6582's partial ACK).</summary>
    protected virtual void OnPartialAck(int acked, TimeSpan now) { }

    protected void ExitRecovery(TimeSpan now)
    {
        InRecovery = false;
        if (Reduction is { Active: true } r)
        {
            r.Active = false;
            S.Congestion.EndReduction();
        }
        else
        {
            S.Congestion.OnRecoveryEnd(S.Flight, now);
        }
    }

    // ------------------------------------------------------------------ retransmission timeout, F-RTO, undo

    /// <summary>The retransmission timer fired with data outstanding: back off, shrink the window, and start again from SND.UNA.</summary>
    public void OnTimeout(TimeSpan now)
    {
        if ((O.UndoSpuriousTimeouts || O.ForwardRtoRecovery) && !InLoss)
        {
            // The first timeout of an episode: what to go back to if it proves spurious.
            var r = Reduction ??= new ReductionState();
            r.UndoArmed = O.UndoSpuriousTimeouts;
            r.UndoCwnd = S.Congestion.Window;
            r.UndoSsthresh = S.Congestion.SlowStartThreshold;
            r.TimeoutMs = TimestampClock.Milliseconds(now);
            r.FrtoStage = (byte)(O.ForwardRtoRecovery ? 1 : 0);
        }
        S.Rto.Backoff(O);
        S.Congestion.OnRetransmissionTimeout(S.Flight, now);
        S.Detection?.CancelProbe();
        ForgetRecovery(); // the peer may have reneged on its SACKs
        S.Detection?.Sent?.AllLost();
        S.Detection?.Reset();
        InLoss = true;
        _lossRecover = S.Max;
        S.Nxt = S.Una;
    }

    /// <summary>Back to LISTEN: nothing outstanding.</summary>
    public void Forget() => InLoss = false;

    /// <summary>A resent segment went out: an undo must see every one reported as a duplicate.</summary>
    public void Retransmitted()
    {
        if (Reduction is { RecoveryUndoArmed: true } undo && (InRecovery || InLoss)) undo.RecoveryRetransmissions++;
    }

    /// <summary>
    /// RFC 5682 (basic F-RTO) on an ACK that moved SND.UNA. Stage 1, the retransmission's ACK: unless
    /// all is acked, send new data (two segments) rather than resend; with none to send, go on as
    /// go-back-N. Stage 2: SND.UNA moved again, over data sent before the timeout and never resent:
    /// the timeout was spurious.
    /// </summary>
    private void ForwardRtoAdvance(ReductionState frto)
    {
        if (frto.FrtoStage == 2)
        {
            UndoSpuriousTimeout(frto);
            return;
        }
        if (S.Una >= _lossRecover || S.Max >= S.DataEnd || S.Una + S.Wnd <= S.Max)
        {
            frto.FrtoStage = 0; // all acked, or nothing new may go: F-RTO cannot tell; go-back-N as usual
            return;
        }
        S.Nxt = S.Max;
        S.Congestion.SetWindow(S.Flight + 2u * (uint)S.Mss);
        frto.FrtoStage = 2;
    }

    /// <summary>
    /// A D-SACK: the peer got a segment twice. Each one counts against the episode's retransmissions;
    /// when all are accounted for, none was needed (the "loss" was reordering), and the reduction is
    /// undone — the window and threshold go back to what they were (Linux's tcp_try_undo_dsack).
    /// </summary>
    private void DsackReported(ReductionState undo, in TcpOptions o, TimeSpan now)
    {
        var block = o.SackBlocks[0];
        int mss = Math.Max(S.Mss, 1);
        int segments = Math.Max(1, (block.Right - block.Left + mss - 1) / mss);
        undo.RecoveryRetransmissions -= segments;
        if (undo.RecoveryRetransmissions > 0 || InLoss) return;
        undo.RecoveryUndoArmed = false;
        undo.SpuriousRecoveries++;
        if (InRecovery) ExitRecovery(now);
        S.Congestion.Undo(undo.RecoveryUndoCwnd, undo.RecoveryUndoSsthresh);
    }

    /// <summary>
    /// RFC 3522's Eifel detection, as Linux's tcp_try_undo_loss: the first ACK after a timeout echoes
    /// a timestamp from before the retransmission, so the original segment arrived — the path was slow,
    /// not lossy. RFC 4015's response: the window and threshold go back to what they were, nothing
    /// more is resent (SND.NXT returns to SND.MAX: what was sent is on its way), nothing is lost.
    /// </summary>
    private void UndoSpuriousTimeout(ReductionState undo)
    {
        undo.UndoArmed = false;
        undo.FrtoStage = 0;
        undo.SpuriousTimeouts++;
        S.Congestion.Undo(undo.UndoCwnd, undo.UndoSsthresh);
        InLoss = false;
        if (S.Nxt < S.Max) S.Nxt = S.Max;
        S.Detection?.Sent?.NoneLost();
    }

    private void ForgetRecovery()
    {
        InRecovery = false;
        if (Reduction is not null) Reduction.Active = false;
        DupAcks = 0;
        Scoreboard?.Clear();
    }

    // ------------------------------------------------------------------ what to resend

    /// <summary>The tail loss probe found SACKed data above a hole: resend the first hole.</summary>
    public void ResendFirstHole(TimeSpan now)
    {
        RtxHighest = S.Una;
        RetransmitNextHole(now);
    }

    /// <summary>Resends the first stretch from SND.UNA (or past what this recovery resent) that the peer has not SACKed.</summary>
    protected int RetransmitNextHole(TimeSpan now)
    {
        if (Racking && S.Detection?.Sent is { } sent)
        {
            // RACK: the first segment marked lost and not resent since.
            for (int k = 0; k < sent.Count; k++)
            {
                ref readonly var s = ref sent[k];
                if (!s.Has(SentSegments.Mark.Lost) || s.Has(SentSegments.Mark.Resent) || s.Has(SentSegments.Mark.Sacked)) continue;
                int length = Math.Min(s.Length, S.Mss);
                var at = s.Start;
                if (s.Length > S.Mss) sent.SplitAt(at + S.Mss); // a TSO segment: only its first MSS goes again
                bool withFin = S.FinQueued && at + length == S.DataEnd && S.Max > S.DataEnd;
                S.StopTiming(); // Karn
                S.SendData(at, length, withFin, now, advance: false);
                if (at + length > RtxHighest) RtxHighest = at + length;
                // Linux restarts the retransmission timer when the head goes again: the timeout then
                // measures from the latest copy of what the peer lacks first.
                if (at == S.Una) S.RestartRetransmissionTimer(now);
                return length;
            }
            return 0;
        }
        var start = RtxHighest > S.Una ? RtxHighest : S.Una;
        var limit = S.Max;
        if (Scoreboard is { } board) (start, limit) = board.NextHole(start, S.Max, S.Una);
        if (start >= limit) return 0;
        var dataEnd = S.DataEnd;
        int len = Math.Min(Math.Min(limit - start, S.Mss), Math.Max(dataEnd - start, 0));
        bool fin = S.FinQueued && start + len == dataEnd && limit > dataEnd;
        if (len <= 0 && !fin) return 0;
        S.StopTiming(); // Karn: an ACK of resent data says nothing about the round trip
        S.SendData(start, len, fin, now, advance: false);
        RtxHighest = start + len + (fin ? 1 : 0);
        return Math.Max(len, 1);
    }

    /// <summary>Fast recovery begins: its point is SND.MAX, nothing is resent yet, and no probe is due.</summary>
    protected void BeginEpisode()
    {
        S.Detection?.CancelProbeTimer();
        InRecovery = true;
        Recover = S.Max;
        RtxHighest = S.Una;
    }
}
