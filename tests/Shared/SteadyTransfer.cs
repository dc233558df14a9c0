using System.Net.Sockets;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Testing;

/// <summary>
/// One established connection between two stacks on the calling thread, joined by a wire that copies
/// each packet into one of a fixed set of buffers made up front, so that whatever is allocated while
/// <see cref="Move"/> runs is the stacks' own. Time is a counter the transfer advances.
/// </summary>
internal sealed class SteadyTransfer
{
    private readonly Wire _wire = new();
    private readonly NetworkStack _client, _server;
    private readonly TcpSocket _sender, _receiver;
    private readonly byte[] _chunk = new byte[64 * 1024];
    private readonly byte[] _sink = new byte[64 * 1024];
    private TimeSpan _now;

    public SteadyTransfer()
    {
        _client = new NetworkStack(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")] });
        _server = new NetworkStack(new StackOptions { Name = "server", Addresses = [IpAddr.Parse("192.0.2.2")] });
        (_wire.A, _wire.B) = (_client, _server);
        _client.Output = _wire;
        _server.Output = _wire;
        var listener = TcpSocket.Create(_server);
        Check(listener.Bind(80));
        Check(listener.Listen(8));
        _sender = TcpSocket.Create(_client);
        var connecting = _sender.Connect(IpAddr.Parse("192.0.2.2"), 80);
        if (connecting != SocketError.InProgress) Check(connecting);
        _wire.Pump(_now);
        _receiver = listener.Accept(out var error) ?? throw new InvalidOperationException($"no connection: {error}");
    }

    /// <summary>Sends <paramref name="bytes"/> and reads them at the other end; returns how many arrived.</summary>
    public long Move(long bytes)
    {
        long sent = 0, received = 0;
        while (received < bytes)
        {
            if (sent < bytes) sent += _sender.Send(_chunk.AsSpan(0, (int)Math.Min(_chunk.Length, bytes - sent)), out _);
            _now += TimeSpan.FromMicroseconds(50);
            _client.Advance(_now);
            _server.Advance(_now);
            _wire.Pump(_now);
            int n;
            while ((n = _receiver.Receive(_sink, out _)) > 0) received += n;
            _wire.Pump(_now); // the window updates the reads opened
        }
        return received;
    }

    private static void Check(SocketError e)
    {
        if (e != SocketError.Success) throw new InvalidOperationException(e.ToString());
    }

    /// <summary>Delivers packets between two stacks in order.</summary>
    private sealed class Wire : IPacketSink
    {
        private const int Slots = 1024;
        private readonly byte[][] _buffers = Enumerable.Range(0, Slots).Select(_ => new byte[65536]).ToArray();
        private readonly int[] _lengths = new int[Slots];
        private readonly NetworkStack?[] _to = new NetworkStack?[Slots];
        private int _head, _count;
        public NetworkStack A = null!, B = null!;

        public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
        {
            if (_count == Slots) throw new InvalidOperationException("the wire is full");
            int slot = (_head + _count++) % Slots;
            packet.CopyTo(_buffers[slot]);
            _lengths[slot] = packet.Length;
            _to[slot] = ReferenceEquals(from, A) ? B : A;
        }

        public void Pump(TimeSpan now)
        {
            while (_count > 0)
            {
                int slot = _head;
                _head = (_head + 1) % Slots;
                _count--;
                _to[slot]!.Receive(_buffers[slot].AsSpan(0, _lengths[slot]), now);
            }
        }
    }
}
