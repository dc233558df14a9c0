using System.Numerics;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// The stack's connections by 4-tuple: a hash table whose chains run through the connections
/// themselves (<see cref="StackConnection.NextInBucket"/>), the key being the connection's own tuple —
/// as Linux's established hash links its sockets. An entry costs one pointer in the connection and
/// one or two bucket slots, where a <c>Dictionary</c> copied the 40-byte tuple into an entry of 56
/// bytes and kept half as many again spare. The hash is <see cref="FourTuple.GetHashCode"/>, seeded at
/// random per process, so a peer cannot choose tuples that fall into one chain.
/// </summary>
internal sealed class ConnectionTable
{
    private const int MinBuckets = 16;
    private StackConnection?[] _buckets = new StackConnection?[MinBuckets];

    public int Count { get; private set; }

    public bool TryGet(in FourTuple tuple, out StackConnection connection)
    {
        for (var c = _buckets[Bucket(tuple, _buckets.Length)]; c is not null; c = c.NextInBucket)
        {
            if (c.Connection.Tuple == tuple)
            {
                connection = c;
                return true;
            }
        }
        connection = null!;
        return false;
    }

    public bool Contains(in FourTuple tuple) => TryGet(tuple, out _);

    /// <summary>Adds a connection under its tuple, which must not be in the table.</summary>
    public void Add(StackConnection connection)
    {
        var tuple = connection.Connection.Tuple;
        if (Contains(tuple)) throw new InvalidOperationException($"{tuple} is already in the connection table");
        if (Count >= _buckets.Length) Grow();
        Link(connection, _buckets);
        Count++;
    }

    /// <summary>Takes this very connection out (not another one that has its tuple); false if it is not in.</summary>
    public bool Remove(StackConnection connection)
    {
        int b = Bucket(connection.Connection.Tuple, _buckets.Length);
        StackConnection? previous = null;
        for (var c = _buckets[b]; c is not null; previous = c, c = c.NextInBucket)
        {
            if (!ReferenceEquals(c, connection)) continue;
            if (previous is null) _buckets[b] = c.NextInBucket;
            else previous.NextInBucket = c.NextInBucket;
            c.NextInBucket = null;
            Count--;
            return true;
        }
        return false;
    }

    /// <summary>Every connection, in no particular order (for snapshots; not on a packet's path).</summary>
    public List<StackConnection> ToList()
    {
        var all = new List<StackConnection>(Count);
        foreach (var head in _buckets)
        {
            for (var c = head; c is not null; c = c.NextInBucket) all.Add(c);
        }
        return all;
    }

    private void Grow()
    {
        var bigger = new StackConnection?[_buckets.Length * 2];
        foreach (var head in _buckets)
        {
            for (var c = head; c is not null;)
            {
                var next = c.NextInBucket;
                Link(c, bigger);
                c = next;
            }
        }
        _buckets = bigger;
    }

    private static void Link(StackConnection connection, StackConnection?[] buckets)
    {
        int b = Bucket(connection.Connection.Tuple, buckets.Length);
        connection.NextInBucket = buckets[b];
        buckets[b] = connection;
    }

    private static int Bucket(in FourTuple tuple, int buckets)
    {
        // Fibonacci hashing spreads the seeded hash's bits over the power-of-two table.
        uint h = (uint)tuple.GetHashCode() * 2654435769u;
        return (int)(h >> (32 - BitOperations.Log2((uint)buckets)));
    }
}
