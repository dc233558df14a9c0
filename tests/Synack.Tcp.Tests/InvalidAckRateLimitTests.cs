using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Linux's tcp_invalid_ratelimit: a bare segment outside the window earns a duplicate ACK at most once
/// per 500 ms (no ACK loop between two stacks that disagree, little for a blind attacker); one with
/// data is answered every time; BSD's profile answers every one.
/// </summary>
public sealed class InvalidAckRateLimitTests
{
    private static int AcksFor(ConnectionOptions options, int length, int count, TimeSpan apart)
    {
        var d = ConnectionDriver.InState(TcpState.Established, options);
        d.Clear();
        for (int i = 0; i < count; i++)
        {
            d.Inject(TcpFlags.Ack, d.PeerNxt + 10_000_000, d.Connection.SndNxt, length); // far outside the window
            d.Now += apart;
        }
        return d.Sent.Count(s => s.Header.Flags == TcpFlags.Ack && s.Payload.Length == 0);
    }

    [Fact]
    public void Bare_out_of_window_segments_get_one_ack_per_half_second()
    {
        var linux = new ConnectionOptions { Timestamps = false };
        Assert.Equal(1, AcksFor(linux, 0, 100, TimeSpan.FromMilliseconds(1)));   // 100 in 99 ms: one answer
        Assert.Equal(5, AcksFor(linux, 0, 10, TimeSpan.FromMilliseconds(250)));  // 10 over 2.5 s: one each 500 ms
    }

    [Fact]
    public void Out_of_window_data_is_answered_every_time()
    {
        Assert.Equal(100, AcksFor(new ConnectionOptions { Timestamps = false }, 10, 100, TimeSpan.FromMilliseconds(1)));
    }

    [Fact]
    public void Bsd_answers_every_bare_one()
    {
        Assert.Equal(100, AcksFor(ConnectionOptions.FreeBsd with { Timestamps = false }, 0, 100, TimeSpan.FromMilliseconds(1)));
    }
}
