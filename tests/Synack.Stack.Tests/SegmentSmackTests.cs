using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// The two resource attacks of 2018–19 on Linux, made by a peer that knows its own sequence numbers:
/// SegmentSmack (CVE-2018-5390), a flood of tiny segments scattered out of order over the window so
/// that every one costs a search and an insert, and SACK panic / SACK slowness (CVE-2019-11477/11479),
/// ACKs whose SACK blocks cut the flight into one-byte pieces or point at nothing. Through the whole
/// stack, a million of each: the queues stay at their bounds, the stack counts what it turned away,
/// and the bytes the peer really sends still arrive exactly.
/// </summary>
public sealed class SegmentSmackTests
{
    private const int Flood = 1_000_000;

    private static (SimulatedNetwork Net, NetworkStack Client, NetworkStack Server, TcpConnection C, TcpConnection S) Connected()
    {
        var net = new SimulatedNetwork(2018);
        // No timestamps, so the forged segments need not keep a clock; the attack does not depend on them.
        var (client, server, c, s) = ConnectedPair.Open(net, ConnectionOptions.Default with { Timestamps = false });
        Assert.True(s.Protocol.SackNegotiated);
        return (net, client, server, c, s);
    }

    private static byte Pattern(long offset) => (byte)(offset * 7 + 3);

    [Fact]
    public void A_million_one_byte_segments_scattered_out_of_order_stay_within_the_reassembly_bound_and_the_stream_arrives_exactly()
    {
        var (net, _, server, c, s) = Connected();
        var tuple = c.Tuple;
        var start = c.Protocol.SndNxt; // the server's RCV.NXT: the attacker is the peer, it knows it
        int window = (int)s.Protocol.RcvWnd;
        Assert.True(window > 10_000, $"window {window}");
        var rng = new Random(5390);
        var buf = new byte[100];
        long peakBuffers = 0;
        int peakRanges = 0;
        for (int i = 0; i < Flood; i++)
        {
            // Every other byte of the window, never the first: no two segments touch, none is in order.
            long offset = 2 + 2 * rng.Next((window - 4) / 2);
            var h = new TcpHeader
            {
                SourcePort = tuple.LocalPort,
                DestinationPort = tuple.RemotePort,
                Seq = start + (int)offset,
                Ack = c.Protocol.RcvNxt,
                Flags = TcpFlags.Ack | TcpFlags.Psh,
                Window = 65535,
            };
            int n = TcpPacket.Write(buf, tuple.LocalAddress, tuple.RemoteAddress, in h, TcpOptionLayout.Established, [Pattern(offset)]);
            server.Receive(buf.AsSpan(0, n), net.Now);
            if (i % 10_000 == 9_999)
            {
                peakRanges = Math.Max(peakRanges, s.Protocol.OutOfOrderRanges);
                peakBuffers = Math.Max(peakBuffers, server.Statistics.BufferBytes);
                net.RunFor(TimeSpan.FromMilliseconds(1)); // the server's duplicate ACKs go out; the client shrugs them off
            }
        }

        Assert.Equal(TcpState.Established, s.State);
        Assert.True(peakRanges <= ReassemblyQueue.MaxRanges, $"{peakRanges} out-of-order ranges");
        Assert.True(peakBuffers <= 4L << 20, $"{peakBuffers} bytes of buffers");
        // Nearly every forged segment needed a 33rd range: turned away, and counted.
        Assert.True(server.Statistics.OutOfOrderRefused >= Flood * 99L / 100, $"{server.Statistics.OutOfOrderRefused} refused of {Flood}");

        // The peer now sends its real stream (the same bytes it forged at those offsets): delivered exactly.
        var stream = new byte[200_000];
        for (int i = 0; i < stream.Length; i++) stream[i] = Pattern(i);
        var got = net.Run(async () =>
        {
            var w = c.WriteAsync(stream);
            var r = await Reads.Exactly(s, stream.Length);
            await w;
            return r;
        }, TimeSpan.FromMinutes(1));
        Assert.True(stream.AsSpan().SequenceEqual(got));
        Assert.Equal(0, s.Protocol.OutOfOrderRanges);
    }

    [Fact]
    public void A_million_sack_blocks_cutting_the_flight_into_bytes_stay_within_the_scoreboard_bound_and_the_transfer_completes()
    {
        var (net, client, server, c, s) = Connected();
        var tuple = c.Tuple;
        var data = new byte[2 << 20];
        new Random(11477).NextBytes(data);
        var (writing, reading) = net.Run(() => Task.FromResult((s.WriteAsync(data).AsTask(), Reads.Exactly(c, data.Length))), TimeSpan.FromSeconds(1));
        net.RunFor(TimeSpan.FromMilliseconds(30)); // the server's flight has grown past a few segments
        Assert.True(s.Protocol.SndNxt - s.Protocol.SndUna > 20_000, $"{s.Protocol.SndNxt - s.Protocol.SndUna} bytes in flight");

        var rng = new Random(11479);
        var buf = new byte[120];
        int peakRanges = 0;
        long peakBuffers = 0;
        int acks = Flood / 4; // four blocks each
        for (int i = 0; i < acks; i++)
        {
            var una = s.Protocol.SndUna;
            var max = s.Protocol.SndMax;
            int flight = max - una;
            var h = new TcpHeader
            {
                SourcePort = tuple.LocalPort,
                DestinationPort = tuple.RemotePort,
                Seq = c.Protocol.SndNxt,
                Ack = una,
                Flags = TcpFlags.Ack,
                Window = 65535,
            };
            if (flight > 2)
            {
                int at = 1 + rng.Next(flight - 1);
                h.Options.AddSackBlock(new SackBlock(una + at, una + at + 1));                               // one byte of the flight
                h.Options.AddSackBlock(new SackBlock(max + rng.Next(1, 1 << 20), max + rng.Next(1 << 20, 1 << 21))); // beyond anything sent
                h.Options.AddSackBlock(new SackBlock(una + at + 10, una + at + 5));                          // inverted
                h.Options.AddSackBlock(new SackBlock(una - 1000, una - 10));                                 // below SND.UNA (a D-SACK)
            }
            int n = TcpPacket.Write(buf, tuple.LocalAddress, tuple.RemoteAddress, in h, TcpOptionLayout.Established, default);
            server.Receive(buf.AsSpan(0, n), net.Now);
            peakRanges = Math.Max(peakRanges, s.Protocol.SackScoreboardRanges);
            if (i % 5_000 == 4_999)
            {
                peakBuffers = Math.Max(peakBuffers, server.Statistics.BufferBytes);
                net.RunFor(TimeSpan.FromMilliseconds(1));
            }
        }

        Assert.True(peakRanges <= ReassemblyQueue.MaxRanges, $"{peakRanges} scoreboard ranges");
        Assert.True(peakBuffers <= 8L << 20, $"{peakBuffers} bytes of buffers");
        // Two of every four blocks point at nothing in flight: each ignored, and counted.
        Assert.True(server.Statistics.SackBlocksRefused >= 2L * acks * 9 / 10, $"{server.Statistics.SackBlocksRefused} blocks refused of {2 * acks} nonsense ones");

        // The lies stop; the real client's ACKs bring the transfer home (the forged SACKs reneged on by the timer).
        var got = net.Run(async () =>
        {
            await writing;
            return await reading;
        }, TimeSpan.FromMinutes(5));
        Assert.True(data.AsSpan().SequenceEqual(got));
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal(0, client.Statistics.OutOfOrderRefused);
    }
}
