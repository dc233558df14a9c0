using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// TSO in the sender: with a device that cuts segments, a burst leaves as one segment of whole MSSs;
/// losses and SACKs still work segment by segment (the record of what is in flight is cut to match).
/// </summary>
public class SegmentationOffloadTests
{
    private static ConnectionDriver Sending(int bytes, out SeqNum una)
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, Nagle = false }, segmentationOffload: 64_000);
        una = d.Connection.SndNxt;
        d.Connection.Send(new byte[bytes], d.Now, out var error);
        Assert.Equal(TcpError.None, error);
        return d;
    }

    [Fact]
    public void A_burst_leaves_as_one_segment_of_whole_mss()
    {
        var d = Sending(20 * 1460, out _);
        var data = d.Sent.Where(s => s.Payload.Length > 0).ToList();
        Assert.Single(data); // IW10: ten segments' worth in one piece
        Assert.Equal(10 * d.Connection.SendMss, data[0].Payload.Length);
    }

    [Fact]
    public void Writes_with_more_to_follow_fill_an_offload_segment_before_it_leaves()
    {
        // A pipe's 4 KB blocks written with MSG_MORE, the last without: as tcp_sendmsg grows an skb to
        // its size goal before it pushes, nothing leaves until the write ends (or the window would cut
        // it anyway); then the window's worth goes as one segment, not one segment per block.
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, Nagle = false }, segmentationOffload: 64_000);
        for (int i = 0; i < 3; i++)
        {
            d.Connection.Send(new byte[4096], d.Now, out var error, more: true);
            Assert.Equal(TcpError.None, error);
        }
        Assert.DoesNotContain(d.Sent, s => s.Payload.Length > 0);

        d.Connection.Send(new byte[4096], d.Now, out _);
        var burst = Assert.Single(d.Sent, s => s.Payload.Length > 0);
        Assert.Equal(10 * d.Connection.SendMss, burst.Payload.Length); // IW10 of the 16 KB
    }

    [Fact]
    public void Linux_marks_every_tso_segment_with_psh_so_the_receivers_gro_flushes()
    {
        // 20 MSS with IW10: one TSO segment now; more than the window allows stays queued, so the
        // write's end is not in it: only Linux's rule (PSH on every GSO packet) marks it.
        var linux = ConnectionDriver.InState(TcpState.Established, ConnectionOptions.Linux with { Timestamps = false, Nagle = false }, segmentationOffload: 64_000);
        linux.Connection.Send(new byte[20 * 1460], linux.Now, out _);
        var burst = Assert.Single(linux.Sent, s => s.Payload.Length > 0);
        Assert.True(burst.Header.Flags.Has(TcpFlags.Psh));

        var plain = Sending(20 * 1460, out _);
        Assert.False(Assert.Single(plain.Sent, s => s.Payload.Length > 0).Header.Flags.Has(TcpFlags.Psh));
    }

    [Fact]
    public void A_hole_in_a_tso_segment_is_resent_one_mss_and_only_the_hole()
    {
        var d = Sending(10 * 1460, out var una);
        int mss = d.Connection.SendMss;
        d.Advance(TimeSpan.FromMilliseconds(50)); // the tail loss probe resends the last MSS meanwhile
        d.Clear();
        // The peer lost the second segment of the ten and SACKs the rest.
        d.AckWithSacks(una + mss, 65535, new SackBlock(una + 2 * mss, una + 10 * mss));
        var resent = d.Sent.Where(s => s.Payload.Length > 0).ToList();
        Assert.True(resent.Count == 1, string.Join("; ", resent.Select(s => $"{s.Header.Seq - una}+{s.Payload.Length}")));
        Assert.Equal(una + mss, resent[0].Header.Seq);
        Assert.Equal(mss, resent[0].Payload.Length);
        var info = d.Connection.GetInfo(d.Now);
        Assert.Equal(8, info.Sacked);
        Assert.Equal(1, info.Lost);
        Assert.Equal(1, info.Retrans);
        // The hole's ACK ends recovery with nothing else sent again.
        d.Clear();
        d.AckWithSacks(una + 10 * mss, 65535);
        Assert.DoesNotContain(d.Sent, s => s.Payload.Length > 0 && s.Header.Seq < una + 10 * mss);
        Assert.Equal(0, d.Connection.GetInfo(d.Now).Unacked);
    }

    [Fact]
    public void Sack_edges_inside_segments_cannot_cut_the_record_finer_than_segments()
    {
        // A hostile peer SACKs scattered odd byte ranges: the record of what is in flight may be cut
        // only between whole segments, so it never holds more entries than segments were sent.
        var d = Sending(40 * 1460, out var una);
        int mss = d.Connection.SendMss;
        long inFlight = d.Connection.SndNxt - una;
        var rng = new Random(11);
        for (int i = 0; i < 20_000; i++)
        {
            int a = rng.Next(1, (int)inFlight - 2);
            d.AckWithSacks(una, 65535, new SackBlock(una + a, una + a + 1 + rng.Next(0, 3000)), new SackBlock(una + a + 3, una + a + 5));
            long segments = (d.Connection.SndMax - una + mss - 1) / mss; // new data may go out meanwhile
            Assert.True(d.Connection.SentSegmentCount <= segments, $"{d.Connection.SentSegmentCount} entries for {segments} segments");
        }
        Assert.Equal(TcpState.Established, d.State);
    }
}
