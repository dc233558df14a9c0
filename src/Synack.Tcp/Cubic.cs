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
internal sealed class Cubic(int initialWindowSegments, int sendBufferSize, bool hyStart = false, bool slowStartByBytes = false) : ICongestionControl
{
    internal const double C = 0.4;
    internal const double Beta = 0.7;
    private const int DupAckThreshold = 3;
    // RFC 9438 4.3: the additive increase that makes W_est match Reno's average rate under β = 0.7.
    private const double AlphaRenoFriendly = 3 * (1 - Beta) / (1 + Beta);
    private readonly uint _cap = (uint)sendBufferSize * 2;
    private uint _cwnd, _ssthresh;
    private uint _mss = 536;
    private double _wMax;            // segments, before the last reduction
    private double _wLastMax;        // fast convergence
    private double _k;               // seconds
    private double _wEst;            // segments: the Reno-friendly estimate
    private TimeSpan? _epochStart;   // the first ACK in congestion avoidance after a reduction
    private HyStartPlusPlus? _hyStart; // made at the first ACK in slow start, when on

    public uint Window => _cwnd;
    public uint SlowStartThreshold => _ssthresh;
    /// <summary>W_max in segments (for tests and tcp_info).</summary>
    internal double WMax => _wMax;
    /// <summary>K in seconds: when the curve reaches W_max again.</summary>
    internal double K => _k;

    public void Start(int mss)
    {
        _mss = (uint)mss;
        _cwnd = (uint)(initialWindowSegments * mss);
        _ssthresh = uint.MaxValue;
        _epochStart = null;
        _wMax = _wLastMax = 0;
    }

    public void SetMss(int mss) => _mss = (uint)mss;

    /// <summary>HyStart++ (when on), for tests.</summary>
    internal HyStartPlusPlus? HyStart => _hyStart;

    public void OnAck(in AckSample ack)
    {
        if (!ack.CwndLimited) return;
        uint bytes = ack.Bytes;
        var now = ack.Now;
        var rtt = ack.SmoothedRtt;
        if (_cwnd < _ssthresh)
        {
            // Linux's tcp_slow_start: never past ssthresh in one step (the rest goes to avoidance).
            uint increase = slowStartByBytes ? Math.Min(bytes, _ssthresh - _cwnd) : Math.Min(bytes, _mss);
            if (hyStart && (_hyStart ??= new HyStartPlusPlus()) is { } hs)
            {
                increase = hs.OnAck(increase, ack.Ack, ack.Rtt, ack.SndNxt);
                if (hs.ExitSlowStart) _ssthresh = _cwnd; // RFC 9406 4.2: on to congestion avoidance
            }
            _cwnd = Math.Min(_cap, _cwnd + increase); // slow start
            return;
        }
        double mss = _mss;
        double cwnd = _cwnd / mss;
        if (_epochStart is null)
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
        double t = (now - _epochStart.Value).TotalSeconds;
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
        _cwnd = (uint)Math.Clamp(next * mss, _mss, _cap);
    }

    /// <summary>W_cubic(t) = C·(t − K)³ + W_max, in segments.</summary>
    internal double W(double t) => C * Math.Pow(t - _k, 3) + _wMax;

    public void OnFastRetransmit(uint flight, TimeSpan now)
    {
        Reduce();
        _cwnd = _ssthresh + DupAckThreshold * _mss; // RFC 5681 3.2 step 3's inflation
    }

    public void OnDuplicateAckInRecovery() => _cwnd += _mss;

    public void OnPartialAck(uint bytes) => _cwnd = (uint)Math.Max((long)_cwnd - bytes + _mss, _mss);

    public void OnRecoveryEnd(uint flight, TimeSpan now) => _cwnd = Math.Min(_ssthresh, Math.Max(flight, _mss) + _mss);

    public void OnRetransmissionTimeout(uint flight, TimeSpan now)
    {
        // 4.8: a timeout is a congestion event for W_max and K; the window restarts from one segment.
        Reduce();
        _cwnd = _mss;
    }

    public void OnCongestionEcho(uint flight, TimeSpan now)
    {
        Reduce();
        _cwnd = _ssthresh;
    }

    public void StartReduction(uint flight, TimeSpan now) => Reduce();

    public void SetWindow(uint cwnd) => _cwnd = Math.Clamp(cwnd, _mss, Math.Max(_cap, _mss));

    public void Restart(uint cwnd)
    {
        _ssthresh = Math.Max(_ssthresh == uint.MaxValue ? 0 : _ssthresh, _cwnd / 4 * 3);
        if (_ssthresh == 0) _ssthresh = uint.MaxValue;
        _cwnd = Math.Max(cwnd, _mss);
    }

    public void EndReduction()
    {
        if (_ssthresh != uint.MaxValue) _cwnd = _ssthresh;
    }

    /// <summary>4.6/4.7: remember the window the loss happened at (lowered if it came early), cut to β of it (as Linux, of cwnd).</summary>
    private void Reduce()
    {
        double cwnd = _cwnd / (double)_mss;
        _wMax = cwnd < _wLastMax ? cwnd * (1 + Beta) / 2 : cwnd;
        _wLastMax = cwnd;
        _ssthresh = (uint)Math.Max(_cwnd * Beta, 2.0 * _mss);
        _epochStart = null;
        _hyStart?.Reset();
    }
}
