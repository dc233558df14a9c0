namespace Synack.Tcp;

/// <summary>
/// Receive-buffer autotuning, as Linux's <c>tcp_rcv_space_adjust</c> (Fisher's dynamic right-sizing):
/// once a round trip, what the application read in it says how fast data drains, and the buffer —
/// with it the window — grows to twice that plus 16 segments, more while the rate is still rising, so
/// the window stays ahead of the sender's slow start. It never shrinks, stops at
/// <see cref="ConnectionOptions.ReceiveBufferMax"/>, and is off once the application sets SO_RCVBUF.
/// </summary>
/// <remarks>
/// The round trip is the receiver's own, from the timestamps echoed on arriving data (Linux's
/// <c>rcv_rtt_est</c>): a pure receiver sends no data to time. Without timestamps, the sender's SRTT
/// (from the handshake at least) stands in. A struct in the receiver: 16 bytes a connection.
/// </remarks>
internal struct ReceiveBufferTuning
{
    private int _read;         // bytes read in the current round
    private int _roundStartMs; // the connection's clock in ms, wrapping (differences stay right)
    private int _space;        // the most read in one round so far (Linux's rcvq_space.space); 0 before the first read
    private int _rttUs;        // the receiver's round trip, 0 until measured

    public readonly TimeSpan Rtt => TimeSpan.FromMicroseconds(_rttUs);

    /// <summary>A round trip measured from a timestamp echoed on data: a new minimum at once, otherwise smoothed by 1/8.</summary>
    public void RttSample(TimeSpan rtt)
    {
        int us = (int)Math.Clamp(rtt.TotalMicroseconds, 1, int.MaxValue);
        _rttUs = _rttUs == 0 || us < _rttUs ? us : _rttUs + (us - _rttUs) / 8;
    }

    /// <summary>The application read <paramref name="n"/> bytes: the buffer size wanted now, or 0 to leave it.</summary>
    public int OnRead(int n, TimeSpan now, TimeSpan fallbackRtt, int mss, int capacity, int max)
    {
        int nowMs = unchecked((int)(now.Ticks / TimeSpan.TicksPerMillisecond));
        if (_space == 0)
        {
            _space = Math.Max(10 * mss, 1); // Linux starts from the initial window's worth
            _roundStartMs = nowMs;
        }
        _read += n;
        long rttUs = _rttUs > 0 ? _rttUs : (long)fallbackRtt.TotalMicroseconds;
        if (rttUs <= 0 || unchecked(nowMs - _roundStartMs) * 1000L < rttUs) return 0;
        int copied = _read;
        _read = 0;
        _roundStartMs = nowMs;
        if (copied <= _space) return 0;
        long window = 2L * copied + 16L * mss;
        window += 2 * window * (copied - _space) / _space; // the rate is rising: grow as much again for it
        _space = copied;
        long target = Math.Min(window, max);
        return target > capacity ? (int)target : 0;
    }
}
