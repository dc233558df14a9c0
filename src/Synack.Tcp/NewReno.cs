namespace Synack.Tcp;

/// <summary>
/// RFC 5681 slow start and congestion avoidance, fast recovery with window inflation, and RFC 6582's
/// partial and full ACKs. The window never exceeds twice the send buffer (more could not be used).
/// </summary>
/// <param name="slowStartByBytes">Slow start grows by every byte acked (Linux) rather than one segment per ACK.</param>
internal sealed class NewReno(int initialWindowSegments, int sendBufferSize, bool slowStartByBytes = false) : ICongestionControl
{
    private const int DupAckThreshold = 3;
    private readonly uint _cap = (uint)sendBufferSize * 2;
    private uint _cwnd, _ssthresh;
    private uint _mss = 536;

    public uint Window => _cwnd;
    public uint SlowStartThreshold => _ssthresh;

    public void Start(int mss)
    {
        _mss = (uint)mss;
        _cwnd = (uint)(initialWindowSegments * mss);
        _ssthresh = uint.MaxValue;
    }

    public void SetMss(int mss) => _mss = (uint)mss;

    public void OnAck(in AckSample ack)
    {
        if (!ack.CwndLimited) return;
        uint bytes = ack.Bytes;
        if (_cwnd < _ssthresh) _cwnd = Math.Min(_cwnd + (slowStartByBytes ? bytes : Math.Min(bytes, _mss)), Math.Max(_ssthresh, _cwnd)); // slow start
        else _cwnd += Math.Max(1u, (uint)((ulong)_mss * _mss / Math.Max(_cwnd, 1u))); // congestion avoidance
        if (_cwnd > _cap) _cwnd = _cap;
    }

    public void OnFastRetransmit(uint flight, TimeSpan now)
    {
        // RFC 5681 3.2 steps 2 and 3: halve, then inflate by the three segments that left.
        _ssthresh = HalfFlight(flight);
        _cwnd = _ssthresh + DupAckThreshold * _mss;
    }

    public void OnDuplicateAckInRecovery() => _cwnd += _mss; // RFC 5681 3.2 step 4

    public void OnPartialAck(uint bytes) =>
        // RFC 6582 3.2 step 5: deflate by what was acked, then add back one segment.
        _cwnd = (uint)Math.Max((long)_cwnd - bytes + _mss, _mss);

    public void OnRecoveryEnd(uint flight, TimeSpan now) =>
        _cwnd = Math.Min(_ssthresh, Math.Max(flight, _mss) + _mss); // RFC 6582 3.2 step 3, full ACK

    public void OnRetransmissionTimeout(uint flight, TimeSpan now)
    {
        // RFC 5681 3.1 equation 4, and the loss window: start again from one segment.
        _ssthresh = HalfFlight(flight);
        _cwnd = _mss;
    }

    public void OnCongestionEcho(uint flight, TimeSpan now)
    {
        _ssthresh = HalfFlight(flight);
        _cwnd = _ssthresh;
    }

    public void StartReduction(uint flight, TimeSpan now) => _ssthresh = HalfFlight(flight);

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

    private uint HalfFlight(uint flight) => Math.Max(flight / 2, 2 * _mss);
}
