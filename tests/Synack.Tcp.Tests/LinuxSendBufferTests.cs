using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// SO_SNDBUF as Linux counts it (<see cref="ConnectionOptions.SendBufferLikeLinux"/>): the limit bounds
/// the queue's memory, bytes plus a socket buffer's cost each, and is tested only when a write starts a
/// new chunk; the buffer autotunes with the congestion window (tcp_sndbuf_expand). The kernel scripts
/// send-buffer-chunks.pkt and send-buffer-autotuning.pkt hold the same rules against the live kernel.
/// </summary>
public class LinuxSendBufferTests
{
    private static ConnectionDriver Established(bool likeLinux = true)
    {
        var options = ConnectionOptions.Linux with { Timestamps = false, SendBufferLikeLinux = likeLinux };
        var d = ConnectionDriver.InState(TcpState.Established, options);
        d.Clear();
        return d;
    }

    // tcp_sndbuf_expand's cost of one 1460-byte segment: 1460 + MAX_TCP_HEADER 256 + skb_shared_info 320,
    // rounded up to a power of two, plus the sk_buff's 256.
    private const int CostPerSegment = 2048 + 256;

    [Fact]
    public void Connecting_makes_room_for_twice_ten_segments_at_their_cost_in_socket_buffers()
    {
        var d = Established();
        Assert.Equal(2 * 10 * CostPerSegment, d.Connection.SendBufferSize); // 46080, over tcp_wmem's 16384

        var bytes = Established(likeLinux: false);
        Assert.Equal(ConnectionOptions.Linux.SendBufferSize, bytes.Connection.SendBufferSize);
    }

    [Fact]
    public void A_write_fills_the_chunk_it_began_and_tops_up_its_unsent_rest_past_the_limit()
    {
        var d = Established();
        var c = d.Connection;
        Assert.True(c.TrySetSendBufferSize(20000));
        int chunk = 65535 / 2 / c.SendMss * c.SendMss; // half the window the peer's SYN-ACK offered
        long window = c.CongestionWindow;

        int taken = c.Send(new byte[200_000], d.Now, out var error);

        // The first chunk goes out as far as the congestion window allows, its rest is topped up to a
        // whole chunk; a new chunk would need the queue under 20000, and it is far over.
        Assert.Equal(TcpError.None, error);
        Assert.Equal(chunk + window, taken);
        Assert.True(taken > 20000);
        Assert.Equal(0, c.Send(new byte[1000], d.Now, out error));
        Assert.Equal(TcpError.WouldBlock, error);
        Assert.Equal(0, c.SendSpace);
    }

    [Fact]
    public void Each_socket_buffer_costs_1280_bytes_on_top_of_the_bytes_it_holds()
    {
        var d = Established();
        var c = d.Connection;
        Assert.True(c.TrySetSendBufferSize(1_000_000));

        Assert.Equal(1000, c.Send(new byte[1000], d.Now, out _)); // one buffer, sent as one packet

        Assert.Equal(1000 + 1280, c.SendBufferSize - c.SendSpace);
    }

    [Fact]
    public void A_limit_the_bytes_alone_stay_under_still_refuses_a_new_chunk_once_the_buffers_are_counted()
    {
        var d = Established();
        var c = d.Connection;
        int chunk = 65535 / 2 / c.SendMss * c.SendMss;
        long first = chunk + c.CongestionWindow; // what the first write takes (above)
        Assert.True(c.TrySetSendBufferSize((int)first + 1));

        // By bytes a second chunk would start (first < first + 1); with the chunk's buffer and the sent
        // packets' counted it does not.
        Assert.Equal(first, c.Send(new byte[200_000], d.Now, out _));
    }

    [Fact]
    public void An_ACK_that_leaves_the_congestion_window_open_grows_the_buffer_of_a_writer_that_found_no_room()
    {
        var d = Established();
        var c = d.Connection;
        int before = c.SendBufferSize;
        while (c.Send(new byte[100_000], d.Now, out _) > 0) { } // until the writer finds no room
        Assert.False(c.WriteSpaceAvailable);

        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax, window: 65535);

        // Slow start doubled the window; the buffer now has room for twice its segments.
        long segments = c.CongestionWindow / c.SendMss;
        Assert.Equal(2 * segments * CostPerSegment, c.SendBufferSize);
        Assert.True(c.SendBufferSize > before);
    }

    [Fact]
    public void A_buffer_the_application_sized_does_not_grow()
    {
        var d = Established();
        var c = d.Connection;
        Assert.True(c.TrySetSendBufferSize(30000));
        while (c.Send(new byte[100_000], d.Now, out _) > 0) { }

        d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndMax, window: 65535);

        Assert.Equal(30000, c.SendBufferSize);
    }

    [Fact]
    public void A_writer_is_woken_only_when_the_room_left_is_half_of_what_stays_queued()
    {
        var d = Established();
        var c = d.Connection;
        Assert.True(c.TrySetSendBufferSize(60000));
        while (c.Send(new byte[100_000], d.Now, out _) > 0) { }

        // ACK segment by segment: the writer stays asleep while less than a third of the limit is free.
        while (!c.WriteSpaceAvailable && c.SndUna < c.SndMax)
        {
            d.Inject(TcpFlags.Ack, d.PeerNxt, c.SndUna + c.SendMss, window: 65535);
        }
        Assert.True(c.WriteSpaceAvailable);
        long queued = c.SendBufferSize - c.SendSpace;
        Assert.True(2L * c.SendSpace >= queued);
        Assert.True(c.SndUna < c.SndMax); // woken with data still in flight, not only once all is acknowledged
    }
}
