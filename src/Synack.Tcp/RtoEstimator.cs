namespace Synack.Tcp;

/// <summary>
/// The retransmission timeout of RFC 6298: SRTT and RTTVAR from samples, RTO = SRTT + max(G, 4 RTTVAR),
/// clamped to [min, max], doubled on every expiry (exponential backoff) until a new sample arrives.
/// </summary>
internal sealed class RtoEstimator
{
    private static readonly TimeSpan ClockGranularity = TimeSpan.FromMilliseconds(1);
    private readonly TimeSpan _min;
    private readonly TimeSpan _max;
    private TimeSpan _raw; // the RTO before slop and clamping

    private readonly TimeSpan _slop;

    private readonly bool _minOnVariance;

    /// <param name="slop">Added to every computed RTO (BSD's rexmit_slop); zero is RFC 6298.</param>
    /// <param name="minOnVariance">Linux: RTO = SRTT + max(4·RTTVAR, min), not max(SRTT + 4·RTTVAR, min).</param>
    public RtoEstimator(TimeSpan initial, TimeSpan min, TimeSpan max, TimeSpan slop = default, bool minOnVariance = false)
    {
        _minOnVariance = minOnVariance;
        _slop = slop;
        _min = min;
        _max = max;
        _raw = initial;
        Rto = Clamp(initial);
    }

    public TimeSpan Srtt { get; private set; }
    public TimeSpan RttVar { get; private set; }
    public bool HasSample { get; private set; }
    public TimeSpan Rto { get; private set; }
    public int Backoffs { get; private set; }
    /// <summary>The smallest round trip measured (zero before the first).</summary>
    public TimeSpan MinRtt { get; private set; }

    public void Sample(TimeSpan r)
    {
        if (r < TimeSpan.Zero) return;
        if (!HasSample || r < MinRtt) MinRtt = r;
        if (!HasSample)
        {
            Srtt = r;
            RttVar = r / 2;
            HasSample = true;
        }
        else
        {
            var delta = Srtt - r;
            if (delta < TimeSpan.Zero) delta = -delta;
            RttVar = (RttVar * 3 + delta) / 4;   // beta = 1/4
            Srtt = (Srtt * 7 + r) / 8;           // alpha = 1/8
        }
        var variance = RttVar * 4;
        var floor = _minOnVariance ? _min : ClockGranularity;
        _raw = Srtt + (variance > floor ? variance : floor);
        Rto = Clamp(_raw + _slop);
        Backoffs = 0;
    }

    /// <summary>RFC 6298 5.5: the timer expired, double the RTO (up to the maximum).</summary>
    public void Backoff()
    {
        Backoffs++;
        // The slop is added once, after doubling (BSD's TCPT_RANGESET); without slop this is plain doubling.
        var start = _raw < _min ? _min : _raw;
        var doubled = Backoffs < 20 ? start * (1 << Backoffs) : _max;
        Rto = Clamp((doubled > _max ? _max : doubled) + _slop);
    }

    private TimeSpan Clamp(TimeSpan t) => t < _min ? _min : t > _max ? _max : t;
}
