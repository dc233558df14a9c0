namespace Synack.Tcp;

/// <summary>
/// The retransmission timeout of RFC 6298: SRTT and RTTVAR from samples, RTO = SRTT + max(G, 4 RTTVAR),
/// clamped to [min, max], doubled on every expiry (exponential backoff) until a new sample arrives.
/// </summary>
/// <remarks>
/// A struct inside the sender, its limits passed in from the options rather than copied: every
/// connection has one, and as an object of its own it cost an idle connection 96 bytes instead of 48.
/// The options give the minimum, maximum and initial RTO, BSD's slop (added to every computed RTO;
/// zero is RFC 6298) and Linux's variant (RTO = SRTT + max(4·RTTVAR, min), not max(SRTT + 4·RTTVAR, min)).
/// </remarks>
internal struct RtoEstimator
{
    private static readonly TimeSpan ClockGranularity = TimeSpan.FromMilliseconds(1);
    private TimeSpan _raw; // the RTO before slop and clamping

    public RtoEstimator(ConnectionOptions options)
    {
        _raw = options.InitialRto;
        Rto = Clamp(_raw, options);
    }

    public TimeSpan Srtt { get; private set; }
    public TimeSpan RttVar { get; private set; }
    public bool HasSample { get; private set; }
    public TimeSpan Rto { get; private set; }
    public int Backoffs { get; private set; }
    /// <summary>The smallest round trip measured (zero before the first).</summary>
    public TimeSpan MinRtt { get; private set; }

    public void Sample(TimeSpan r, ConnectionOptions o)
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
        var floor = o.MinRtoOnVariance ? o.MinRto : ClockGranularity;
        _raw = Srtt + (variance > floor ? variance : floor);
        Rto = Clamp(_raw + o.RtoSlop, o);
        Backoffs = 0;
    }

    /// <summary>
    /// RFC 6298 5.7: the handshake gave no sample (a SYN or SYN-ACK was retransmitted): data starts with
    /// <paramref name="rto"/> (3 s), not the 1 s initial RTO, until the first sample.
    /// </summary>
    public void NoHandshakeSample(TimeSpan rto, ConnectionOptions o)
    {
        if (HasSample) return;
        _raw = rto;
        Rto = Clamp(rto, o);
        Backoffs = 0;
    }

    /// <summary>RFC 6298 5.5: the timer expired, double the RTO (up to the maximum).</summary>
    public void Backoff(ConnectionOptions o)
    {
        Backoffs++;
        // The slop is added once, after doubling (BSD's TCPT_RANGESET); without slop this is plain doubling.
        var min = o.MinRto;
        var max = o.MaxRto;
        var start = _raw < min ? min : _raw;
        var doubled = Backoffs < 20 ? start * (1 << Backoffs) : max;
        Rto = Clamp((doubled > max ? max : doubled) + o.RtoSlop, o);
    }

    /// <summary>
    /// How long after the <paramref name="probes"/>-th zero-window probe the next one goes: the RTO
    /// doubled once per probe sent (at most 2^10 times), never past the maximum RTO (Linux's
    /// tcp_probe_timer backoff; the persist timer keeps its own count, the RTO itself is not backed off).
    /// </summary>
    public readonly TimeSpan PersistInterval(int probes, ConnectionOptions o)
    {
        var backoff = Rto * (1 << Math.Min(probes, 10));
        return backoff > o.MaxRto ? o.MaxRto : backoff;
    }

    private static TimeSpan Clamp(TimeSpan t, ConnectionOptions o) => t < o.MinRto ? o.MinRto : t > o.MaxRto ? o.MaxRto : t;
}
