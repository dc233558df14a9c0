namespace Synack.Tcp;

/// <summary>
/// Loss recovery as Linux does it: RFC 6675's pipe (bytes in flight, less those SACKed and those lost
/// and not yet resent) paced by RFC 6937's proportional rate reduction. Recovery starts on three
/// duplicate ACKs, on more than two segments' worth SACKed above a hole, or — with RACK — when RACK
/// marks a segment lost; the window then comes down to the threshold over one round in proportion to
/// what the ACKs deliver, resending what is lost before anything new.
/// </summary>
internal sealed class SackRecovery(Sender sender, ConnectionOptions options) : LossRecovery(sender, options)
{
    protected override void LossByDuplicateAcks(TimeSpan now)
    {
        if (!S.Racking) EnterRecovery(now); // with RACK the SACKs say what is lost, not the count
    }

    // PRR paces recovery from the ACK's end (AfterAck), not duplicate by duplicate.
    protected override void DuplicateAckInRecovery(TimeSpan now) { }

    public override void LossByTime(TimeSpan now, bool timer)
    {
        if (InRecovery || InLoss) return;
        if (timer)
        {
            // Linux's tcp_rack_reo_timeout: recovery starts as if one segment had been delivered.
            EnterRecovery(now);
            ReduceProportionally(Reduction!, S.Mss, crb: false);
        }
        else if (O.FastRetransmit)
        {
            EnterRecovery(now); // the first loss RACK finds starts recovery (Linux: lost_out > 0)
        }
    }

    public override void AfterAck(long delivered, bool retransmittedAcked, long lostBefore, TimeSpan now)
    {
        // RFC 6675: enough SACKed above SND.UNA is loss without waiting for three duplicate ACKs (RACK decides instead when on).
        if (!S.Racking && !InRecovery && !InLoss && O.FastRetransmit && SackedBytes > (DupAckThreshold - 1) * S.Mss && S.Max > S.Una) EnterRecovery(now);
        if (Reduction is { Active: true } r) ReduceProportionally(r, delivered, crb: r.Cwr ? false : retransmittedAcked && LostBytes <= lostBefore);
    }

    /// <summary>Recovery under PRR: while the pipe is below the window, resend what is lost, then new data.</summary>
    public override bool Output(TimeSpan now)
    {
        if (!InRecovery || Reduction is not { Active: true } r) return false;
        for (int guard = 0; guard < 1 << 16; guard++)
        {
            if (Pipe >= S.Congestion.Window) return true;
            if (LostNotResentBytes > 0)
            {
                int resent = RetransmitNextHole(now);
                if (resent <= 0) return true;
                r.Out += resent;
                continue;
            }
            var dataEnd = S.DataEnd;
            var windowEdge = S.Una + S.Wnd;
            if (S.Nxt < dataEnd && S.Nxt < windowEdge)
            {
                int len = Math.Min(Math.Min(dataEnd - S.Nxt, S.Mss), windowEdge - S.Nxt);
                S.SendData(S.Nxt, len, fin: len == dataEnd - S.Nxt && S.FinQueued, now);
                r.Out += len;
                continue;
            }
            if (S.FinQueued && S.Nxt == dataEnd) S.SendData(S.Nxt, 0, fin: true, now);
            return true;
        }
        return true;
    }

    /// <summary>Fast recovery under PRR: the threshold is set, the window left for <see cref="ReduceProportionally"/> to bring down.</summary>
    private void EnterRecovery(TimeSpan now)
    {
        uint prior = S.Congestion.Window;
        uint priorSsthresh = S.Congestion.SlowStartThreshold;
        S.Congestion.StartReduction(S.Flight, now);
        var r = Reduction ??= new ReductionState();
        r.Start(prior, cwr: false, S.Max);
        if (O.UndoSpuriousTimeouts && S.SackOk && O.DuplicateSack)
        {
            r.RecoveryUndoArmed = true;
            r.RecoveryUndoCwnd = prior;
            r.RecoveryUndoSsthresh = priorSsthresh;
            r.RecoveryRetransmissions = 0;
        }
        BeginEpisode();
        S.RestartRetransmissionTimer(now);
    }

    /// <summary>
    /// RFC 6937 3.1 for one ACK that reported <paramref name="delivered"/> bytes: while the pipe is above
    /// the threshold send in proportion (ssthresh / RecoverFS) to what was delivered; below it, catch up
    /// towards the threshold (PRR-CRB when resent data was acked and nothing newly lost, else PRR-SSRB,
    /// as the Linux the conformance scripts were written for). The window becomes pipe + sndcnt; the
    /// first ACK always lets the fast retransmit go.
    /// </summary>
    private void ReduceProportionally(ReductionState r, long delivered, bool crb)
    {
        if (delivered <= 0) return;
        r.Delivered += delivered;
        long pipe = Math.Max(Pipe, 0);
        long ssthresh = S.Congestion.SlowStartThreshold;
        long delta = ssthresh - pipe;
        long sndcnt;
        if (delta < 0)
        {
            sndcnt = (ssthresh * r.Delivered + r.PriorCwnd - 1) / r.PriorCwnd - r.Out;
        }
        else
        {
            sndcnt = crb ? Math.Max(r.Delivered - r.Out, delivered) + S.Mss : delivered;
            sndcnt = Math.Min(delta, sndcnt);
        }
        sndcnt = Math.Max(sndcnt, r.Out == 0 ? S.Mss : 0);
        S.Congestion.SetWindow((uint)Math.Clamp(pipe + sndcnt, 0, uint.MaxValue));
    }
}
