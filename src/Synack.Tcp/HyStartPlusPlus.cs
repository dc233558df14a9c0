using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// HyStart++ (RFC 9406): slow start that watches the round trip. Each round (until the data sent at
/// its start is acknowledged) keeps the least RTT of its first samples; when a round's minimum has risen
/// by a threshold over the previous round's (a queue is building), slow start gives way to Conservative
/// Slow Start — growth divided by four — and after five such rounds to congestion avoidance. A round in
/// CSS whose minimum falls below where CSS began was a false alarm: back to slow start. Linux does this
/// inside CUBIC; here the controller asks it how much each ACK may grow the window.
/// </summary>
internal sealed class HyStartPlusPlus
{
    private const int RttSamples = 8;               // N_RTT_SAMPLE
    private const int CssGrowthDivisor = 4;
    private const int CssRounds = 5;
    private static readonly TimeSpan MinRttThresh = TimeSpan.FromMilliseconds(4);
    private static readonly TimeSpan MaxRttThresh = TimeSpan.FromMilliseconds(16);
    private const int MinRttDivisor = 8;

    private SeqNum _windowEnd;
    private bool _roundStarted;
    private TimeSpan _lastRoundMinRtt = TimeSpan.MaxValue;
    private TimeSpan _currentRoundMinRtt = TimeSpan.MaxValue;
    private int _samples;
    private TimeSpan _cssBaselineMinRtt = TimeSpan.MaxValue;
    private int _cssRounds;

    /// <summary>In Conservative Slow Start.</summary>
    public bool InCss { get; private set; }

    /// <summary>Slow start is over (five CSS rounds): the controller sets ssthresh to the window.</summary>
    public bool ExitSlowStart { get; private set; }

    /// <summary>
    /// One ACK in slow start: <paramref name="ack"/>, the RTT it measured (if any) and SND.NXT now.
    /// Returns how many of <paramref name="increase"/> bytes the window may grow by.
    /// </summary>
    public uint OnAck(uint increase, SeqNum ack, TimeSpan? rtt, SeqNum sndNxt)
    {
        if (!_roundStarted || ack >= _windowEnd)
        {
            // A new round: the data sent from here on is what ends it.
            if (_roundStarted && InCss && ++_cssRounds >= CssRounds) ExitSlowStart = true;
            _roundStarted = true;
            _windowEnd = sndNxt;
            _lastRoundMinRtt = _currentRoundMinRtt;
            _currentRoundMinRtt = TimeSpan.MaxValue;
            _samples = 0;
        }
        if (rtt is TimeSpan r)
        {
            if (r < _currentRoundMinRtt) _currentRoundMinRtt = r;
            _samples++;
        }
        if (!InCss)
        {
            if (_samples >= RttSamples && _currentRoundMinRtt != TimeSpan.MaxValue && _lastRoundMinRtt != TimeSpan.MaxValue)
            {
                var thresh = _lastRoundMinRtt / MinRttDivisor;
                if (thresh < MinRttThresh) thresh = MinRttThresh;
                if (thresh > MaxRttThresh) thresh = MaxRttThresh;
                if (_currentRoundMinRtt >= _lastRoundMinRtt + thresh)
                {
                    InCss = true;
                    _cssBaselineMinRtt = _currentRoundMinRtt;
                    _cssRounds = 0;
                }
            }
            return increase;
        }
        if (_samples >= RttSamples && _currentRoundMinRtt < _cssBaselineMinRtt)
        {
            InCss = false; // the RTT came back down: the rise was not a queue
            _cssBaselineMinRtt = TimeSpan.MaxValue;
            return increase;
        }
        return increase / CssGrowthDivisor;
    }

    /// <summary>A loss or ECN echo ended slow start; if slow start comes back (after a timeout), it starts over.</summary>
    public void Reset()
    {
        InCss = false;
        ExitSlowStart = false;
        _roundStarted = false;
        _lastRoundMinRtt = _currentRoundMinRtt = _cssBaselineMinRtt = TimeSpan.MaxValue;
        _samples = 0;
    }
}
