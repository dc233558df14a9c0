namespace Synack.Tcp;

/// <summary>
/// The TCP timestamp clock (RFC 7323 5.4): milliseconds of the host's time, shifted per connection by
/// an offset (RFC 7323 7.1) so the value tells nothing across connections. One clock for live
/// connections and for TIME-WAIT, so a TIME-WAIT ACK never steps back from the connection's last one.
/// </summary>
internal static class TimestampClock
{
    public static uint Milliseconds(TimeSpan now) => unchecked((uint)(now.Ticks / TimeSpan.TicksPerMillisecond));

    public static uint Value(TimeSpan now, uint offset) => unchecked(Milliseconds(now) + offset);
}
