using System.Buffers;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// Writing a multi-piece buffer (what a pipe hands over) in one go: every piece arrives, in order,
/// also when the send buffer is far smaller than the whole and the write has to wait for room.
/// </summary>
public sealed class SequenceWriteTests
{
    private sealed class Piece : ReadOnlySequenceSegment<byte>
    {
        public Piece(byte[] data, Piece? previous)
        {
            Memory = data;
            if (previous is not null)
            {
                RunningIndex = previous.RunningIndex + previous.Memory.Length;
                previous.Next = this;
            }
        }
    }

    [Fact]
    public void A_buffer_of_many_pieces_larger_than_the_send_buffer_arrives_whole_and_in_order()
    {
        var options = ConnectionOptions.Default with { SendBufferSize = 16 * 1024 };
        var net = new SimulatedNetwork(3);
        var client = net.AddHost("client", "192.0.2.1", options);
        var server = net.AddHost("server", "192.0.2.2", options);
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5), Loss = 0.01, Seed = 3 }, client, server);
        // 300 pieces of 1 to 4 KiB, byte i of the whole being i mod 251.
        var rng = new Random(3);
        Piece? first = null, last = null;
        long total = 0;
        for (int p = 0; p < 300; p++)
        {
            var data = new byte[rng.Next(1, 4097)];
            for (int i = 0; i < data.Length; i++) data[i] = (byte)((total + i) % 251);
            total += data.Length;
            last = new Piece(data, last);
            first ??= last;
        }
        var sequence = new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
        Assert.False(sequence.IsSingleSegment);

        var received = net.Run(async () =>
        {
            var listener = TcpListener.Start(server, 80);
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            var s = await accept;
            var writing = c.WriteAsync(sequence);
            var got = new byte[total];
            for (int n = 0; n < total;) n += await s.ReadAsync(got.AsMemory(n));
            await writing;
            return got;
        }, TimeSpan.FromMinutes(5));
        for (int i = 0; i < received.Length; i++) Assert.True(received[i] == (byte)(i % 251), $"byte {i}");
    }

    /// <summary>
    /// A pipe's sixteen 4 KiB blocks written with Nagle off (as Kestrel's transport has it) leave as
    /// full-sized segments and one short tail: the blocks are corked together (MSG_MORE) until the last.
    /// Sent one by one, every block's tail was a short segment of its own, and the device got 4 KiB packets.
    /// </summary>
    [Fact]
    public void Sixteen_pipe_blocks_with_nagle_off_leave_as_full_segments_and_one_short_tail()
    {
        var options = ConnectionOptions.Default with { Nagle = false };
        var net = new SimulatedNetwork(4);
        var client = net.AddHost("client", "192.0.2.1", options);
        var server = net.AddHost("server", "192.0.2.2", options);
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(1), Seed = 4 }, client, server);
        var payloads = new List<int>();
        client.AddObserver(new PayloadRecorder(payloads));
        Piece? first = null, last = null;
        for (int p = 0; p < 16; p++)
        {
            last = new Piece(new byte[4096], last);
            first ??= last;
        }
        var sequence = new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);

        int mss = net.Run(async () =>
        {
            var listener = TcpListener.Start(server, 80);
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            var s = await accept;
            await c.WriteAsync(sequence);
            var got = new byte[16 * 4096];
            for (int n = 0; n < got.Length;) n += await s.ReadAsync(got.AsMemory(n));
            return payloads.Max();
        }, TimeSpan.FromMinutes(1));

        Assert.Equal(16 * 4096, payloads.Sum());
        Assert.Equal(1, payloads.Count(n => n < mss));
        Assert.True(payloads[^1] < mss, $"the short one is the tail: {string.Join(" ", payloads)}");
    }

    private sealed class PayloadRecorder(List<int> into) : IStackObserver
    {
        public void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
        {
            if (TcpPacket.TryParse(packet, out var ip, out var tcp, out _, verifyChecksum: false) && ip.PayloadLength > tcp.HeaderLength)
                into.Add(ip.PayloadLength - tcp.HeaderLength);
        }
    }
}
