using System.Buffers.Binary;
using Synack.Wire;

namespace Synack.Wire.Tests;

/// <summary>
/// Segmentation offload at the link: what the other side is handed must cut back into exactly the
/// segments the stack sent.
/// </summary>
public class SegmentCoalescerTests
{
    private static readonly IpAddr Us = IpAddr.Parse("192.0.2.2"), Them = IpAddr.Parse("192.0.2.1");

    private static byte[] Segment(uint seq, int length, TcpFlags flags = TcpFlags.Ack, uint ack = 77, ushort window = 500)
    {
        var h = new TcpHeader { SourcePort = 80, DestinationPort = 40000, Seq = new SeqNum(seq), Ack = new SeqNum(ack), Flags = flags, Window = window };
        var payload = new byte[length];
        for (int i = 0; i < length; i++) payload[i] = (byte)(seq + i);
        var buf = new byte[TcpPacket.MaxLength(length)];
        int n = TcpPacket.Write(buf, Us, Them, in h, TcpOptionLayout.Established, payload, partialChecksum: true);
        return buf[..n];
    }

    [Fact]
    public void A_burst_becomes_one_gso_packet_with_the_headers_the_kernel_needs()
    {
        var c = new SegmentCoalescer();
        for (int i = 0; i < 10; i++) Assert.True(c.TryAppend(Segment(1000 + (uint)i * 1460, 1460, i == 9 ? TcpFlags.Ack | TcpFlags.Psh : TcpFlags.Ack)));
        Assert.True(c.TryAppend(Segment(1000 + 10 * 1460, 700, TcpFlags.Ack | TcpFlags.Psh)));
        Assert.Equal(11, c.Segments);
        Assert.Equal(1460, c.SegmentSize);  // the size to cut back into: the MSS
        Assert.Equal(40, c.HeaderLength);
        Assert.Equal(20, c.IpHeaderLength);
        var packet = c.Complete().ToArray().AsSpan();
        Assert.True(c.IsEmpty);
        Assert.Equal(40 + 10 * 1460 + 700, packet.Length);
        Assert.Equal(packet.Length, BinaryPrimitives.ReadUInt16BigEndian(packet[2..]));
        Assert.Equal(0, InternetChecksum.Compute(packet[..20]));               // the IPv4 header checksum holds
        Assert.Equal(TcpFlags.Ack | TcpFlags.Psh, (TcpFlags)packet[33]);       // PSH of the last segment
        // The TCP field: the pseudo-header's sum over the whole length, not complemented.
        uint pseudo = InternetChecksum.PseudoHeader(Us, Them, 6, packet.Length - 20);
        while (pseudo >> 16 != 0) pseudo = (pseudo & 0xffff) + (pseudo >> 16);
        Assert.Equal((ushort)pseudo, BinaryPrimitives.ReadUInt16BigEndian(packet[36..]));
        // The payload is the segments' bytes in order.
        for (int i = 0; i < 10 * 1460 + 700; i += 997) Assert.Equal((byte)(1000 + i), packet[40 + i]);
    }

    [Fact]
    public void A_completed_packet_is_handed_over_whole_and_the_next_is_built_in_the_new_buffer()
    {
        // The TUN link writes packets after the stack's lock is let go: the builder gives the packet's
        // buffer away instead of it being copied, and the packet stays intact while the next is built.
        var c = new SegmentCoalescer(headroom: 10);
        for (int i = 0; i < 3; i++) Assert.True(c.TryAppend(Segment(1000 + (uint)i * 1460, 1460)));
        int length = c.Complete().Length;
        var first = c.TakeBuffer(new byte[c.BufferSize]);
        var kept = first.AsSpan(0, length).ToArray();
        for (int i = 0; i < 3; i++) Assert.True(c.TryAppend(Segment(9000 + (uint)i * 1460, 1460)));
        var second = c.Complete();
        Assert.Equal(kept, first.AsSpan(0, length).ToArray()); // untouched by the second packet
        Assert.Equal(unchecked((byte)9000), second[10 + 40]);             // which went into the new buffer
        Assert.Equal(unchecked((byte)1000), first[10 + 40]);

        Assert.True(c.TryAppend(Segment(20000, 100)));
        Assert.Throws<InvalidOperationException>(() => c.TakeBuffer(new byte[c.BufferSize])); // not in the middle of a packet
        c.Complete();
        Assert.Throws<ArgumentException>(() => c.TakeBuffer(new byte[100]));
    }

    [Fact]
    public void Only_what_the_kernels_cut_restores_is_joined()
    {
        var c = new SegmentCoalescer();
        Assert.False(c.TryAppend(Segment(1, 0)));                              // a pure ACK goes alone
        Assert.False(c.TryAppend(Segment(1, 100, TcpFlags.Syn | TcpFlags.Ack)));
        Assert.True(c.TryAppend(Segment(1, 1460)));
        Assert.False(c.TryAppend(Segment(1 + 2920, 1460)));                    // a gap
        Assert.False(c.TryAppend(Segment(1461, 1460, ack: 78)));               // another ACK
        Assert.False(c.TryAppend(Segment(1461, 1460, window: 501)));           // another window
        Assert.True(c.TryAppend(Segment(1461, 1000)));                         // a short one ends it
        Assert.False(c.TryAppend(Segment(2461, 1000)));
        Assert.Equal(2, c.Segments);
        var single = new SegmentCoalescer();
        Assert.True(single.TryAppend(Segment(1, 1460, TcpFlags.Ack | TcpFlags.Fin)));
        Assert.False(single.TryAppend(Segment(1461, 10)));                     // nothing after a FIN
        var alone = single.Complete().ToArray();
        Assert.Equal(Segment(1, 1460, TcpFlags.Ack | TcpFlags.Fin), alone); // one segment goes as it came
    }
}
