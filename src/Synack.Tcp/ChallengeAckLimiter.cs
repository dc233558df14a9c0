namespace Synack.Tcp;

/// <summary>
/// RFC 5961 section 7: challenge ACKs are rate-limited so that an attacker cannot use them as an
/// amplifier or as a side channel. A simple per-second budget.
/// </summary>
internal sealed class ChallengeAckLimiter(int perSecond)
{
    private long _windowStartSecond = long.MinValue;
    private int _sent;

    public bool TryTake(TimeSpan now)
    {
        long second = now.Ticks / TimeSpan.TicksPerSecond;
        if (second != _windowStartSecond)
        {
            _windowStartSecond = second;
            _sent = 0;
        }
        if (_sent >= perSecond) return false;
        _sent++;
        return true;
    }
}
