namespace Synack.Tcp.Tests;

/// <summary>
/// TCP_NOTSENT_LOWAT: a writer that writes as fast as it may keeps only about the mark queued behind
/// the window, in Linux's chunks (half the peer's largest window, in whole segments).
/// </summary>
public class NotSentLowWaterTests
{
    private static ConnectionDriver Established(int? lowWater = null)
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, NotSentLowWater = lowWater });
        d.Clear();
        return d;
    }

    [Fact]
    public void A_write_starts_a_new_chunk_only_below_the_mark_and_fills_the_chunk_it_began()
    {
        var d = Established();
        var c = d.Connection;
        c.NotSentLowWater = 4000;
        int mss = c.SendMss;
        int chunk = (int)(65535 / 2 / mss * mss); // the peer offered 65535: half of it, in whole segments
        long window = c.CongestionWindow; // what goes out at once

        int taken = c.Send(new byte[200_000], d.Now, out var error);

        Assert.Equal(TcpError.None, error);
        // The first chunk goes out as far as the window allows, its rest is topped up to a whole chunk,
        // and with a whole chunk unsent (more than 4000) no further chunk starts.
        Assert.Equal(window + chunk, taken);
        Assert.Equal(chunk, c.Unsent);
        Assert.Equal(0, c.Send(new byte[1000], d.Now, out error));
        Assert.Equal(TcpError.WouldBlock, error);
        Assert.False(c.WriteSpaceAvailable);
    }

    [Fact]
    public void Once_the_unsent_bytes_fall_under_half_the_mark_the_connection_is_writable_again()
    {
        var d = Established(lowWater: 4000);
        var c = d.Connection;
        c.Send(new byte[200_000], d.Now, out _);
        Assert.False(c.WriteSpaceAvailable);

        // Each ACK lets more out; the writer may come back only when under 2000 bytes wait unsent.
        while (c.Unsent > 0)
        {
            Assert.False(c.WriteSpaceAvailable);
            d.Inject(Wire.TcpFlags.Ack, d.PeerNxt, c.SndMax, window: 65535);
        }
        Assert.True(c.WriteSpaceAvailable);
        Assert.True(c.Send(new byte[1000], d.Now, out _) > 0);
    }

    [Fact]
    public void Without_a_mark_the_send_buffer_alone_limits_a_write_and_zero_returns_to_the_options_value()
    {
        var d = Established(lowWater: 3000);
        var c = d.Connection;
        c.NotSentLowWater = 0;
        Assert.Equal(3000, c.NotSentLowWater); // 0 is "unset": the sysctl's value applies, as on Linux

        var free = Established();
        int buffer = free.Connection.SendSpace;
        Assert.Null(free.Connection.NotSentLowWater);
        Assert.Equal(buffer, free.Connection.Send(new byte[buffer + 5000], free.Now, out _));
    }
}
