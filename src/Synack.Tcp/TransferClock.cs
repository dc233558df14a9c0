namespace Synack.Tcp;

/// <summary>
/// When data last arrived and was last acknowledged, and how long the sender was busy or held back (Linux's chronograph:
/// one condition at a time, the more telling one winning — a full send buffer over the peer's window
/// over plain busy). Made at the first data so an idle connection does not carry it.
/// </summary>
internal sealed class TransferClock(TimeSpan start)
{
    public enum Limit : byte { None, Busy, ReceiveWindow, SendBuffer }

    public TimeSpan LastDataReceived = start;
    public TimeSpan LastAckReceived = start;
    private Limit _current;
    private TimeSpan _since;
    private TimeSpan _busy, _rwnd, _sndbuf;

    public void Start(Limit limit, TimeSpan now)
    {
        if (limit > _current) Set(limit, now);
    }

    /// <summary>A condition ended: back to busy while anything is left to send or be acknowledged, else idle.</summary>
    public void Stop(Limit limit, bool idle, TimeSpan now)
    {
        if (idle) Set(Limit.None, now);
        else if (limit == _current) Set(Limit.Busy, now);
    }

    private void Set(Limit limit, TimeSpan now)
    {
        Account(now);
        _current = limit;
    }

    private void Account(TimeSpan now)
    {
        var spent = now - _since;
        _since = now;
        switch (_current)
        {
            case Limit.Busy: _busy += spent; break;
            case Limit.ReceiveWindow: _rwnd += spent; break;
            case Limit.SendBuffer: _sndbuf += spent; break;
        }
    }

    /// <summary>Totals up to <paramref name="now"/>: busy (all three together), receive-window limited, send-buffer limited.</summary>
    public (TimeSpan Busy, TimeSpan ReceiveWindow, TimeSpan SendBuffer) Totals(TimeSpan now)
    {
        Account(now);
        return (_busy + _rwnd + _sndbuf, _rwnd, _sndbuf);
    }
}
