using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>Out-of-order data: kept, reassembled, reported in SACK and D-SACK blocks, and bounded.</summary>
public class ReassemblyTests
{
    private static SeqNum S(uint v) => new(v);

    [Fact]
    public void Ranges_merge_when_they_touch_and_rcv_nxt_takes_what_it_reaches()
    {
        var q = new ReassemblyQueue();
        Assert.True(q.Add(S(200), S(300), out _, out _));
        Assert.True(q.Add(S(400), S(500), out _, out _));
        Assert.True(q.Add(S(300), S(350), out var ms, out var me)); // touches 200:300 on the left
        Assert.Equal((S(200), S(350)), (ms, me));
        Assert.Equal(2, q.Count);
        Assert.Equal((S(200), S(250)), q.FirstOverlap(S(100), S(250)));
        Assert.True(q.Add(S(340), S(450), out ms, out me)); // bridges both
        Assert.Equal((S(200), S(500)), (ms, me));
        Assert.Equal(1, q.Count);
        Assert.Equal(S(150), q.Advance(S(150))); // does not reach 200
        Assert.Equal(S(500), q.Advance(S(200)));
        Assert.True(q.IsEmpty);
    }

    [Fact]
    public void The_queue_never_holds_more_than_its_bound_of_ranges()
    {
        var q = new ReassemblyQueue();
        for (uint i = 0; i < ReassemblyQueue.MaxRanges; i++) Assert.True(q.Add(S(1000 + 10 * i), S(1005 + 10 * i), out _, out _));
        Assert.False(q.Add(S(5000), S(5001), out _, out _)); // a new island: refused
        Assert.True(q.Add(S(1005), S(1010), out _, out _));  // joining two: fine
        Assert.Equal(ReassemblyQueue.MaxRanges - 1, q.Count);
    }

    [Fact]
    public void Sack_blocks_put_the_newest_first_and_a_dsack_block_goes_once()
    {
        var l = new SackList();
        l.Arrived(S(200), S(300));
        l.Arrived(S(400), S(500));
        l.Arrived(S(600), S(700));
        l.Duplicate(S(50), S(100));
        var o = new TcpOptions();
        l.WriteTo(ref o);
        Assert.Equal(4, o.SackBlockCount);
        Assert.Equal(new SackBlock(S(50), S(100)), o.SackBlocks[0]);
        Assert.Equal(new SackBlock(S(600), S(700)), o.SackBlocks[1]);
        Assert.Equal(new SackBlock(S(200), S(300)), o.SackBlocks[3]);
        l.Arrived(S(200), S(700)); // one block swallows the three
        l.Acknowledged(S(250));
        o = new TcpOptions();
        l.WriteTo(ref o);
        Assert.Equal(1, o.SackBlockCount);
        Assert.Equal(new SackBlock(S(250), S(700)), o.SackBlocks[0]);
    }

    [Fact]
    public void Segments_arriving_in_any_order_are_delivered_in_order_with_sack_blocks_on_the_way()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var base0 = d.PeerNxt;
        var stream = new byte[5000];
        new Random(7).NextBytes(stream);
        void Send(int from, int len) => d.InjectData(base0 + from, stream.AsSpan(from, len));

        d.Clear();
        Send(1000, 1000);
        Send(3000, 1000);
        var dup = d.Last.Header; // an immediate duplicate ACK naming both islands, newest first
        Assert.Equal(base0, dup.Ack);
        Assert.Equal(2, dup.Options.SackBlockCount);
        Assert.Equal(new SackBlock(base0 + 3000, base0 + 4000), dup.Options.SackBlocks[0]);
        Send(0, 1500);     // fills the first hole and overlaps the island: a D-SACK for 1000:1500
        var ack = d.Last.Header;
        Assert.Equal(base0 + 2000, ack.Ack);
        Assert.Equal(new SackBlock(base0 + 1000, base0 + 1500), ack.Options.SackBlocks[0]);
        Assert.Equal(new SackBlock(base0 + 3000, base0 + 4000), ack.Options.SackBlocks[1]);
        Send(4000, 1000);
        Send(2000, 1000);  // the last hole
        Assert.Equal(base0 + 5000, d.Last.Header.Ack);
        Assert.Equal(0, d.Last.Header.Options.SackBlockCount);
        var got = new byte[6000];
        int n = d.Connection.Receive(got, d.Now, out _);
        Assert.Equal(5000, n);
        Assert.True(stream.AsSpan().SequenceEqual(got.AsSpan(0, n)));
        Assert.Equal(0, d.Connection.OutOfOrderRanges);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_overlapping_duplicated_segments_in_random_order_deliver_the_stream_exactly(int seed)
    {
        var rng = new Random(seed);
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false, ReceiveBufferSize = 16 * 1024 });
        var base0 = d.PeerNxt;
        var stream = new byte[60_000];
        rng.NextBytes(stream);
        var delivered = new List<byte>();
        var buf = new byte[4096];
        // Pieces that cover the stream, plus random overlapping ones, shuffled; the receiver's buffer is
        // smaller than the stream, so reads in between are what lets the window move on.
        var pieces = new List<(int From, int Len)>();
        for (int at = 0; at < stream.Length; at += 700) pieces.Add((at, Math.Min(700, stream.Length - at)));
        for (int i = 0; i < 200; i++)
        {
            int from = rng.Next(stream.Length);
            pieces.Add((from, Math.Min(1 + rng.Next(1460), stream.Length - from)));
        }
        for (int round = 0; round < 200 && delivered.Count < stream.Length; round++)
        {
            foreach (var (from, len) in pieces.OrderBy(_ => rng.Next()).Take(60))
            {
                d.InjectData(base0 + from, stream.AsSpan(from, len));
                Assert.True(d.Connection.OutOfOrderRanges <= ReassemblyQueue.MaxRanges);
            }
            int n;
            while ((n = d.Connection.Receive(buf, d.Now, out _)) > 0) delivered.AddRange(buf.AsSpan(0, n).ToArray());
        }
        Assert.Equal(stream.Length, delivered.Count);
        Assert.True(stream.AsSpan().SequenceEqual(delivered.ToArray()));
        Assert.Equal(base0 + stream.Length, d.Connection.RcvNxt);
    }

    [Fact]
    public void A_wholly_duplicate_segment_is_reported_in_a_dsack_block_once()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var start = d.PeerNxt;
        d.Inject(TcpFlags.Ack, start, d.Connection.SndNxt, length: 100);
        d.Inject(TcpFlags.Ack, start, d.Connection.SndNxt, length: 100); // the same again: a spurious retransmission
        var ack = d.Last.Header;
        Assert.Equal(start + 100, ack.Ack);
        Assert.Equal(1, ack.Options.SackBlockCount);
        Assert.Equal(new SackBlock(start, start + 100), ack.Options.SackBlocks[0]);
        d.Inject(TcpFlags.Ack, start + 100, d.Connection.SndNxt, length: 10);
        d.Advance(TimeSpan.FromMilliseconds(300)); // the delayed ACK of new data carries no D-SACK
        Assert.Equal(0, d.Last.Header.Options.SackBlockCount);
    }

    [Fact]
    public void A_flood_of_scattered_one_byte_segments_stays_bounded()
    {
        var d = ConnectionDriver.InState(TcpState.Established, new ConnectionOptions { Timestamps = false });
        var start = d.PeerNxt;
        for (int i = 0; i < 10_000; i++)
        {
            d.Inject(TcpFlags.Ack, start + 2 + 2 * (i % 30_000), d.Connection.SndNxt, length: 1);
        }
        Assert.True(d.Connection.OutOfOrderRanges <= ReassemblyQueue.MaxRanges);
        Assert.All(d.Sent, s => Assert.True(s.Header.Options.SackBlockCount <= TcpOptions.MaxSackBlocks));
        d.Inject(TcpFlags.Ack, start, d.Connection.SndNxt, length: 2); // fills the first hole only
        Assert.Equal(start + 3, d.Last.Header.Ack);
        Assert.Equal(TcpState.Established, d.State);
    }
}
