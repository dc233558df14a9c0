namespace Synack.Tcp;

/// <summary>
/// Fast retransmit and fast recovery as RFC 5681 3.2 gives them, with NewReno's partial ACKs (RFC
/// 6582): on the third duplicate ACK the threshold halves and the first hole is resent; each further
/// duplicate ACK inflates the window by a segment (one has left the network) and, when the peer sends
/// SACK blocks, resends the next hole they name; a partial ACK resends the next hole at once. FreeBSD's
/// profile recovers this way.
/// </summary>
internal sealed class NewRenoRecovery(Sender sender, ConnectionOptions options) : LossRecovery(sender, options)
{
    protected override void LossByDuplicateAcks(TimeSpan now)
    {
        // RFC 5681 3.2 steps 2 and 3.
        S.Congestion.OnFastRetransmit(S.Flight, now);
        BeginEpisode();
        RetransmitNextHole(now);
        S.RestartRetransmissionTimer(now);
        S.Output(now);
    }

    protected override void DuplicateAckInRecovery(TimeSpan now)
    {
        S.Congestion.OnDuplicateAckInRecovery();
        if (Scoreboard is { IsEmpty: false }) RetransmitNextHole(now);
        S.Output(now);
    }

    /// <summary>RFC 6582 3.2 step 3: an ACK that covers part of what was outstanding: resend the next hole at once.</summary>
    protected override void OnPartialAck(int acked, TimeSpan now)
    {
        if (RtxHighest < S.Una) RtxHighest = S.Una;
        RetransmitNextHole(now);
        S.Congestion.OnPartialAck((uint)acked);
    }
}
