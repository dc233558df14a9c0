namespace Synack.Tcp;

/// <summary>
/// RFC 5961 section 7: challenge ACKs are rate-limited so that an attacker cannot use them as an
/// amplifier or as a side channel. A simple per-second budget. It also keeps when the last duplicate
/// ACK for an invalid bare segment went (Linux's last_oow_ack_time): made on the first such event, so
/// a connection that never meets one pays nothing for either.
/// </summary>
internal sealed class ChallengeAckLimiter(int perSecond)
{
    private long _windowStartSecond = long.MinValue;
    private int _sent;
    private TimeSpan _lastInvalidAck = TimeSpan.MinValue;

    /// <summary>True (and the time noted) when an ACK for an invalid segment may go now.</summary>
    public bool TryTakeInvalid(TimeSpan now, TimeSpan interval)
    {
        if (_lastInvalidAck != TimeSpan.MinValue && now - _lastInvalidAck < interval) return false;
        _lastInvalidAck = now;
        return true;
    }

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
