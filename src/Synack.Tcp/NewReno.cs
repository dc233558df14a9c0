namespace Synack.Tcp;

/// <summary>
/// RFC 5681 slow start and congestion avoidance, fast recovery with window inflation, and RFC 6582's
/// partial and full ACKs. The window never exceeds twice the send buffer (more could not be used).
/// </summary>
/// <param name="slowStartByBytes">Slow start grows by every byte acked (Linux) rather than one segment per ACK.</param>
internal sealed class NewReno(int initialWindowSegments, int sendBufferSize, bool slowStartByBytes = false) : CongestionWindow(initialWindowSegments, sendBufferSize), ICongestionControl
{


    public void OnAck(in AckSample ack)
    {
        if (!ack.CwndLimited) return;
        uint bytes = ack.Bytes;
        if (Cwnd < Ssthresh) Cwnd = Math.Min(Cwnd + (slowStartByBytes ? bytes : Math.Min(bytes, Mss)), Math.Max(Ssthresh, Cwnd)); // slow start
        else Cwnd += Math.Max(1u, (uint)((ulong)Mss * Mss / Math.Max(Cwnd, 1u))); // congestion avoidance
        if (Cwnd > Cap) Cwnd = Cap;
    }

    public void OnFastRetransmit(uint flight, TimeSpan now)
    {
        // RFC 5681 3.2 steps 2 and 3: halve, then inflate by the three segments that left.
        Ssthresh = HalfFlight(flight);
        Cwnd = Ssthresh + LossRecovery.DupAckThreshold * Mss;
    }

    public void OnDuplicateAckInRecovery() => Cwnd += Mss; // RFC 5681 3.2 step 4

    public void OnPartialAck(uint bytes) =>
        // RFC 6582 3.2 step 5: deflate by what was acked, then add back one segment.
        Cwnd = (uint)Math.Max((long)Cwnd - bytes + Mss, Mss);

    public void OnRecoveryEnd(uint flight, TimeSpan now) =>
        Cwnd = Math.Min(Ssthresh, Math.Max(flight, Mss) + Mss); // RFC 6582 3.2 step 3, full ACK

    public void OnRetransmissionTimeout(uint flight, TimeSpan now)
    {
        // RFC 5681 3.1 equation 4, and the loss window: start again from one segment.
        Ssthresh = HalfFlight(flight);
        Cwnd = Mss;
    }

    public void OnCongestionEcho(uint flight, TimeSpan now)
    {
        Ssthresh = HalfFlight(flight);
        Cwnd = Ssthresh;
    }

    public void StartReduction(uint flight, TimeSpan now) => Ssthresh = HalfFlight(flight);


    private uint HalfFlight(uint flight) => Math.Max(flight / 2, 2 * Mss);
}
