namespace Synack.Tcp;

/// <summary>
/// RFC 6937's bookkeeping for one window reduction (fast recovery, or an ECN echo): the window it
/// started from (RecoverFS; Linux's prior_cwnd), bytes the peer has reported delivered since, and
/// bytes sent since. Made at the first reduction, so a connection that never loses keeps none.
/// </summary>
internal sealed class ReductionState
{
    public bool Active;
    /// <summary>An ECN reduction (CWR), not loss recovery: nothing is resent; it ends when SND.UNA passes <see cref="End"/>.</summary>
    public bool Cwr;
    public Wire.SeqNum End;
    public uint PriorCwnd;
    public long Delivered;
    public long Out;

    // A retransmission timeout's undo (RFC 3522/4015): the window and threshold before the first
    // timeout of the episode, and when its retransmission went (ms of the timestamp clock). Kept
    // here, with the other reductions' bookkeeping, so a connection that never times out pays nothing.
    public bool UndoArmed;
    public uint UndoCwnd, UndoSsthresh, TimeoutMs;
    public int SpuriousTimeouts;
    /// <summary>F-RTO (RFC 5682): 1 after the timeout's retransmission, 2 once new data went instead of more resends; 0 otherwise.</summary>
    public byte FrtoStage;

    // Fast recovery's undo by D-SACK (Linux's undo_marker/undo_retrans, tcp_try_undo_dsack): the window
    // and threshold before the episode, and how many of its retransmissions the peer has not yet
    // reported as duplicates. All reported: every one was unneeded (reordering, not loss).
    public bool RecoveryUndoArmed;
    public uint RecoveryUndoCwnd, RecoveryUndoSsthresh;
    public int RecoveryRetransmissions;
    public int SpuriousRecoveries;

    public void Start(uint priorCwnd, bool cwr, Wire.SeqNum end)
    {
        Active = true;
        Cwr = cwr;
        End = end;
        PriorCwnd = Math.Max(priorCwnd, 1);
        Delivered = 0;
        Out = 0;
    }
}
