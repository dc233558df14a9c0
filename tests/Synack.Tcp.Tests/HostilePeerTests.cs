using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Peers that try to make the sender hold more than its buffers: SACK blocks that are nonsense or
/// scattered over everything in flight, and a window that shrinks to nothing while the application
/// keeps writing. Memory stays where the options put it; the connection keeps working.
/// </summary>
public class HostilePeerTests
{
    private static ConnectionDriver WithDataInFlight(out SeqNum una, int bytes = 64 * 1024)
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, Nagle = false });
        Assert.True(d.Connection.SackNegotiated);
        una = d.Connection.SndNxt;
        d.Connection.Send(new byte[bytes], d.Now, out var error);
        Assert.Equal(TcpError.None, error);
        return d;
    }

    [Fact]
    public void A_peer_that_sacks_garbage_and_scattered_bytes_cannot_grow_the_scoreboard_past_its_bound()
    {
        var d = WithDataInFlight(out var una);
        var max = d.Connection.SndNxt;
        var rng = new Random(7);
        for (int i = 0; i < 100_000; i++)
        {
            // One-byte blocks scattered over the flight, blocks beyond what was sent, inverted ones, below SND.UNA.
            uint offset = (uint)rng.Next(1, max - una);
            d.AckWithSacks(una, 65535,
                new SackBlock(una + offset, una + offset + 1),
                new SackBlock(max + rng.Next(1, 1 << 20), max + rng.Next(1 << 20, 1 << 21)),
                new SackBlock(una + offset + 10, una + offset + 5),
                new SackBlock(una - 1000, una - 10));
            Assert.True(d.Connection.SackScoreboardRanges <= ReassemblyQueue.MaxRanges);
        }
        Assert.Equal(TcpState.Established, d.State);
        // An honest peer from here on gets every byte: the connection still works.
        for (int i = 0; i < 200 && d.Connection.SendQueued > 0; i++)
        {
            d.AckWithSacks(d.Connection.SndMax, 65535);
            d.Advance(TimeSpan.FromMilliseconds(10));
        }
        Assert.Equal(0, d.Connection.SendQueued);
        Assert.Equal(d.Connection.SndMax, d.Connection.SndUna);
    }

    [Fact]
    public void A_peer_that_shrinks_its_window_to_nothing_cannot_make_the_sender_hold_more_than_its_send_buffer()
    {
        var options = new ConnectionOptions { Timestamps = false, Nagle = false, SendBufferSize = 32 * 1024 };
        var d = ConnectionDriver.InState(TcpState.Established, options);
        ushort window = 65535;
        for (int i = 0; i < 200; i++)
        {
            d.Connection.Send(new byte[16 * 1024], d.Now, out _);
            Assert.True(d.Connection.SendQueued <= options.SendBufferSize, $"{d.Connection.SendQueued} bytes queued");
            // Acknowledge a little, and offer less each time, down to zero (shrinking the right edge).
            window = (ushort)Math.Max(0, window - 1000);
            var ack = d.Connection.SndUna + Math.Min(100, d.Connection.SndNxt - d.Connection.SndUna);
            d.Inject(TcpFlags.Ack, d.PeerNxt, ack, window: window);
            d.Advance(TimeSpan.FromMilliseconds(50));
        }
        Assert.Equal(0, window);
        Assert.Equal(TcpState.Established, d.State);
        Assert.True(d.Connection.SendQueued <= options.SendBufferSize);
        Assert.NotNull(d.Connection.TimerDeadline(TcpTimer.Persist) ?? d.Connection.TimerDeadline(TcpTimer.Retransmission));
    }
}
