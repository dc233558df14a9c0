using System.Buffers;
using System.Net.Sockets;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// A TSO segment is built in a buffer the device takes as it is (behind room for the device's own
/// header), not built once and copied again into the device's queue: a download's every byte used to
/// pass through memory once more on its way to the TUN device.
/// </summary>
public sealed class SegmentHandOverTests
{
    [Fact]
    public void A_bulk_transfer_hands_its_offload_segments_to_the_device_in_the_buffers_they_were_built_in()
    {
        var wire = new OffloadWire();
        var client = new NetworkStack(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")] }) { Output = wire };
        var server = new NetworkStack(new StackOptions { Name = "server", Addresses = [IpAddr.Parse("192.0.2.2")] }) { Output = wire };
        (wire.A, wire.B) = (client, server);
        var listener = TcpSocket.Create(server);
        Assert.Equal(SocketError.Success, listener.Bind(80));
        Assert.Equal(SocketError.Success, listener.Listen(8));
        var sender = TcpSocket.Create(client);
        Assert.Equal(SocketError.InProgress, sender.Connect(IpAddr.Parse("192.0.2.2"), 80));
        var now = TimeSpan.Zero;
        wire.Pump(now);
        var receiver = listener.Accept(out var error) ?? throw new InvalidOperationException($"no connection: {error}");

        var data = new byte[1 << 20];
        new Random(7).NextBytes(data);
        var got = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int sent = 0;
        for (int round = 0; round < 10_000 && got.Length < data.Length; round++)
        {
            if (sent < data.Length) sent += sender.Send(data.AsSpan(sent, Math.Min(64 * 1024, data.Length - sent)), out _);
            now += TimeSpan.FromMilliseconds(1);
            client.Advance(now);
            server.Advance(now);
            wire.Pump(now);
            int n;
            while ((n = receiver.Receive(chunk, out _)) > 0) got.Write(chunk, 0, n);
            wire.Pump(now);
        }

        Assert.Equal(data, got.ToArray());
        Assert.True(wire.HandedOver > 0, "no segment was handed over in its own buffer");
        Assert.Equal(0, wire.CopiedTso); // every TSO segment came whole, none through the copying call
        Assert.All(wire.HeadroomKept, Assert.True); // built behind the device's header room
    }

    /// <summary>An offloading link in memory: TSO segments are delivered whole (the receiver's GRO takes them as they are).</summary>
    private sealed class OffloadWire : IBatchingPacketSink
    {
        private readonly Queue<(NetworkStack To, byte[] Packet, int SegmentSize)> _queue = new();
        public NetworkStack A = null!, B = null!;
        public int HandedOver, CopiedTso;
        public List<bool> HeadroomKept { get; } = [];

        public int Headroom => 10;
        public bool CompletesTcpChecksums => true;
        public int MaxSegmentBytes => 65535 - 120;
        public void Flush() { }

        public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet) => Enqueue(from, packet, 0);

        public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet, int segmentSize)
        {
            CopiedTso++;
            Enqueue(from, packet, segmentSize);
        }

        public void TransmitOwned(INetworkNode from, byte[] buffer, int length, int segmentSize)
        {
            HandedOver++;
            HeadroomKept.Add(buffer[Headroom] >> 4 == 4); // the IPv4 header starts after the room
            Enqueue(from, buffer.AsSpan(Headroom, length), segmentSize);
            ArrayPool<byte>.Shared.Return(buffer);
        }

        private void Enqueue(INetworkNode from, ReadOnlySpan<byte> packet, int segmentSize) =>
            _queue.Enqueue((ReferenceEquals(from, A) ? B : A, packet.ToArray(), segmentSize));

        public void Pump(TimeSpan now)
        {
            while (_queue.TryDequeue(out var p)) p.To.Receive(p.Packet, now, p.SegmentSize, checksumOffloaded: true);
        }
    }
}
