namespace Synack.Tcp;

/// <summary>
/// CUBIC (RFC 9438). After a congestion event the window is cut to β = 0.7 of what it was, and then
/// follows W_cubic(t) = C·(t − K)³ + W_max (in segments, t in seconds since the first ACK after the cut):
/// concave up to the old maximum W_max, flat around it at t = K, convex beyond. Where plain Reno would
/// be ahead (short RTTs, small windows), the Reno-friendly estimate W_est wins (4.3). Fast convergence
/// (4.7) lowers W_max when losses come before the old maximum is reached again. Slow start and the
/// fast-recovery mechanics (window inflation, partial ACKs) are RFC 5681/6582's, as in Linux outside PRR.
/// </summary>
/// <param name="slowStartByBytes">Slow start grows by every byte acked (Linux) rather than one segment per ACK.</param>
internal sealed class Cubic(int initialWindowSegments, int sendBufferSize, bool hyStart = false, bool slowStartByBytes = false) : CongestionWindow(initialWindowSegments, sendBufferSize), ICongestionControl
{
    internal const double C = 0.4;
    internal const double Beta = 0.7;
    // RFC 9438 4.3: the additive increase that makes W_est match Reno's average rate under β = 0.7.
    private const double AlphaRenoFriendly = 3 * (1 - Beta) / (1 + Beta);
    private double _wMax;            // segments, before the last reduction
    private double _wLastMax;        // fast convergence
    private double _k;               // seconds
    private double _wEst;            // segments: the Reno-friendly estimate
    private TimeSpan _epochStart = NoEpoch; // the first ACK in congestion avoidance after a reduction
    private static readonly TimeSpan NoEpoch = TimeSpan.MinValue;
    private HyStartPlusPlus? _hyStart; // made at the first ACK in slow start, when on

    /// <summary>W_max in segments (for tests and tcp_info).</summary>
    internal double WMax => _wMax;
    /// <summary>K in seconds: when the curve reaches W_max again.</summary>
    internal double K => _k;

    public override void Start(int mss)
    {
        base.Start(mss);
        _epochStart = NoEpoch;
        _wMax = _wLastMax = 0;
    }

    /// <summary>HyStart++ (when on), for tests.</summary>
    internal HyStartPlusPlus? HyStart => _hyStart;

    public void OnAck(in AckSample ack)
    {
        if (!ack.CwndLimited) return;
        uint bytes = ack.Bytes;
        var now = ack.Now;
        var rtt = ack.SmoothedRtt;
        if (Cwnd < Ssthresh)
        {
            // Linux's tcp_slow_start: never past ssthresh in one step (the rest goes to avoidance).
            uint increase = slowStartByBytes ? Math.Min(bytes, Ssthresh - Cwnd) : Math.Min(bytes, Mss);
            if (hyStart && (_hyStart ??= new HyStartPlusPlus()) is { } hs)
            {
                increase = hs.OnAck(increase, ack.Ack, ack.Rtt, ack.SndNxt);
                if (hs.ExitSlowStart) Ssthresh = Cwnd; // RFC 9406 4.2: on to congestion avoidance
            }
            Cwnd = Math.Min(Cap, Cwnd + increase); // slow start
            return;
        }
        double mss = Mss;
        double cwnd = Cwnd / mss;
        if (_epochStart == NoEpoch)
        {
            _epochStart = now;
            _wEst = cwnd;
            if (cwnd < _wMax) _k = Math.Cbrt((_wMax - cwnd) / C);
            else
            {
                _k = 0;
                _wMax = cwnd;
            }
        }
        double t = (now - _epochStart).TotalSeconds;
        double acked = bytes / mss;
        // 4.3: Reno-friendly region; α grows to 1 once W_est passes the old maximum.
        _wEst += (_wEst < _wMax ? AlphaRenoFriendly : 1.0) * acked / cwnd;
        double wCubicNow = W(t);
        double next;
        if (wCubicNow < _wEst)
        {
            next = _wEst;
        }
        else
        {
            // 4.4/4.5: aim at where the curve will be one RTT from now, at most 1.5 × cwnd.
            double target = Math.Clamp(W(t + rtt.TotalSeconds), cwnd, 1.5 * cwnd);
            next = cwnd + (target - cwnd) * acked / cwnd;
        }
        Cwnd = (uint)Math.Clamp(next * mss, Mss, Cap);
    }

    /// <summary>W_cubic(t) = C·(t − K)³ + W_max, in segments.</summary>
    internal double W(double t) => C * Math.Pow(t - _k, 3) + _wMax;

    public void OnFastRetransmit(uint flight, TimeSpan now)
    {
        Reduce();
        Cwnd = Ssthresh + LossRecovery.DupAckThreshold * Mss; // RFC 5681 3.2 step 3's inflation
    }

    public void OnDuplicateAckInRecovery() => Cwnd += Mss;

    public void OnPartialAck(uint bytes) => Cwnd = (uint)Math.Max((long)Cwnd - bytes + Mss, Mss);

    public void OnRecoveryEnd(uint flight, TimeSpan now) => Cwnd = Math.Min(Ssthresh, Math.Max(flight, Mss) + Mss);

    public void OnRetransmissionTimeout(uint flight, TimeSpan now)
    {
        // 4.8: a timeout is a congestion event for W_max and K; the window restarts from one segment.
        Reduce();
        Cwnd = Mss;
    }

    public void OnCongestionEcho(uint flight, TimeSpan now)
    {
        Reduce();
        Cwnd = Ssthresh;
    }

    public void StartReduction(uint flight, TimeSpan now) => Reduce();


    /// <summary>4.6/4.7: remember the window the loss happened at (lowered if it came early), cut to β of it (as Linux, of cwnd).</summary>
    private void Reduce()
    {
        double cwnd = Cwnd / (double)Mss;
        _wMax = cwnd < _wLastMax ? cwnd * (1 + Beta) / 2 : cwnd;
        _wLastMax = cwnd;
        Ssthresh = (uint)Math.Max(Cwnd * Beta, 2.0 * Mss);
        _epochStart = NoEpoch;
        _hyStart?.Reset();
    }
}
