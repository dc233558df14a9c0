using System.Buffers;
using System.Collections.Concurrent;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// Stacks that share one address, each on a queue of one multi-queue device (a TUN device opened with
/// IFF_MULTI_QUEUE): the device keeps every flow on one queue, so each connection lives on one shard
/// and the shards share nothing on a packet's way — except at one moment. A flow a shard opens itself
/// is learned by the device from the queue the shard writes to, but only after the packet has gone
/// up the kernel's stack, so the first answer (the SYN-ACK) may reach another shard. The shards
/// therefore keep the connections they open in one concurrent table, and a shard that receives a
/// packet for none of its own connections hands it to the shard that opened it instead of answering
/// with a reset. It also keeps two shards from choosing the same ephemeral port for one peer.
/// </summary>
public sealed class ShardSet
{
    private readonly ConcurrentDictionary<FourTuple, StackThread> _opened = new();

    /// <summary>Joins <paramref name="shards"/> (each on its own queue of one device) into one set.</summary>
    public ShardSet(IReadOnlyList<StackThread> shards)
    {
        if (shards.Count == 0) throw new ArgumentException("at least one shard", nameof(shards));
        Shards = shards;
        foreach (var s in shards) s.Stack.Shards = this;
    }

    /// <summary>The shards, one per device queue.</summary>
    public IReadOnlyList<StackThread> Shards { get; }

    /// <summary>Connections the shards have opened and not yet let go of.</summary>
    public int OpenedConnections => _opened.Count;

    /// <summary>Packets one shard handed to another.</summary>
    public long HandedOver => Interlocked.Read(ref _handedOver);
    private long _handedOver;

    internal bool IsTaken(in FourTuple tuple) => _opened.ContainsKey(tuple);

    internal bool TryOpen(in FourTuple tuple, NetworkStack stack) =>
        stack.Loop is StackThread loop && _opened.TryAdd(tuple, loop);

    internal void Closed(in FourTuple tuple, NetworkStack stack)
    {
        if (_opened.TryGetValue(tuple, out var owner) && ReferenceEquals(owner.Stack, stack)) _opened.TryRemove(tuple, out _);
    }

    /// <summary>A packet that reached <paramref name="here"/> for a connection another shard opened: a copy goes to that shard.</summary>
    internal bool TryHandOver(NetworkStack here, in FourTuple tuple, ReadOnlySpan<byte> packet, int segmentSize, bool checksumOffloaded)
    {
        if (!_opened.TryGetValue(tuple, out var owner) || ReferenceEquals(owner.Stack, here)) return false;
        var copy = ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(copy);
        int length = packet.Length;
        Interlocked.Increment(ref _handedOver);
        owner.Post(() =>
        {
            try
            {
                owner.Stack.Receive(copy.AsSpan(0, length), owner.Now, segmentSize, checksumOffloaded);
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(copy);
            }
        });
        return true;
    }
}
