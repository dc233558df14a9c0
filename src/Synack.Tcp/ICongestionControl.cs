namespace Synack.Tcp;

/// <summary>
/// A congestion controller (RFC 5681's cwnd and ssthresh, in bytes) as the sender consults it: it is
/// told what the sender sees (new data acked, loss detected three ways, the end of recovery) and
/// answers with the window. The sender keeps the sequence space, the scoreboard and what to resend;
/// the controller only how much may be in flight (the shape of smoltcp's Controller and gVisor's
/// congestionControl).
/// </summary>
internal interface ICongestionControl
{
    /// <summary>The congestion window: how many bytes may be in flight.</summary>
    uint Window { get; }
    uint SlowStartThreshold { get; }

    /// <summary>The connection is synchronized: start from the initial window (RFC 6928: some segments of <paramref name="mss"/>).</summary>
    void Start(int mss);

    /// <summary>The segment size changed (a path MTU report).</summary>
    void SetMss(int mss);

    /// <summary>New data acknowledged outside recovery (SYN and FIN do not count).</summary>
    void OnAck(in AckSample ack);

    /// <summary>Three duplicate ACKs: fast retransmit starts recovery with <paramref name="flight"/> bytes outstanding.</summary>
    void OnFastRetransmit(uint flight, TimeSpan now);

    /// <summary>A further duplicate ACK in recovery: a segment has left the network.</summary>
    void OnDuplicateAckInRecovery();

    /// <summary>An ACK in recovery that covers <paramref name="bytes"/> but not all that was outstanding (NewReno's partial ACK).</summary>
    void OnPartialAck(uint bytes);

    /// <summary>Recovery is over: everything outstanding when it began is acknowledged; <paramref name="flight"/> bytes are still out.</summary>
    void OnRecoveryEnd(uint flight, TimeSpan now);

    /// <summary>The retransmission timer fired with <paramref name="flight"/> bytes outstanding.</summary>
    void OnRetransmissionTimeout(uint flight, TimeSpan now);

    /// <summary>The peer echoed congestion (ECN's ECE), once per window of data: react as to a loss, resending nothing.</summary>
    void OnCongestionEcho(uint flight, TimeSpan now);

    /// <summary>
    /// A loss or an ECN echo starts a reduction the sender paces itself (RFC 6937 PRR): set the
    /// slow-start threshold as for a loss and leave the window for the sender to bring down.
    /// </summary>
    void StartReduction(uint flight, TimeSpan now);

    /// <summary>PRR's window for this ACK: what is in flight plus what may be sent.</summary>
    void SetWindow(uint cwnd);

    /// <summary>Slow start after idle: the window is <paramref name="cwnd"/>; the threshold keeps three quarters of the old window (Linux's tcp_current_ssthresh).</summary>
    void Restart(uint cwnd);

    /// <summary>The reduction is over (recovery or CWR ended): the window is the slow-start threshold (Linux's tcp_end_cwnd_reduction).</summary>
    void EndReduction();

    /// <summary>
    /// The reduction was for nothing (a spurious timeout): the window and threshold go back to at
    /// least what they were before it (RFC 4015; Linux's tcp_undo_cwnd_reduction).
    /// </summary>
    void Undo(uint priorCwnd, uint priorSsthresh);
}

/// <summary>What an ACK of new data tells the controller.</summary>
/// <param name="Bytes">Data newly acknowledged.</param>
/// <param name="Now">When it arrived.</param>
/// <param name="SmoothedRtt">SRTT so far (zero before the first sample).</param>
/// <param name="Rtt">The round trip this ACK measured, if it measured one.</param>
/// <param name="Ack">The ACK field.</param>
/// <param name="SndNxt">SND.NXT when it arrived (where the next round of slow start will end).</param>
/// <param name="CwndLimited">The sender has been using its window (RFC 7661): false, and the window does not grow.</param>
internal readonly record struct AckSample(uint Bytes, TimeSpan Now, TimeSpan SmoothedRtt, TimeSpan? Rtt, Wire.SeqNum Ack, Wire.SeqNum SndNxt, bool CwndLimited = true);
