using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// Joins stacks that run on <see cref="StackThread"/>s in one process, with the offloads a loopback
/// device has: each sender's burst of data segments to one connection is handed over as one packet
/// of up to 64 KB that the receiver takes whole (GSO on one side, GRO on the other, as Linux's
/// <c>lo</c> does), TCP checksums are not computed (nothing between two threads can corrupt a byte),
/// and what a stack sends while it works reaches each receiver as one batch when it lets go of the
/// stack — at once, on the same thread, when the receiver is free (see <see cref="StackThread"/>).
/// </summary>
public sealed class ThreadLink : IBatchingPacketSink
{
    private readonly Lock _attach = new();
    private StackThread[] _threads = []; // replaced whole on Attach, so a send reads it without a lock

    /// <summary>
    /// What the stack working on this thread has built since its last flush. Per thread, not per stack:
    /// a stack works on whichever thread holds its lock and flushes before it lets go, so a box never
    /// holds another thread's packets.
    /// </summary>
    private sealed class Outbox
    {
        public readonly SegmentCoalescer Builder = new();
        public StackThread? BuildingFor;
        public Dictionary<StackThread, List<(byte[] Buffer, int Length, int SegmentSize)>> Ready = [];
        // Flushes nest (a receiver run on this thread flushes what it answered into this same box), so
        // a box keeps as many spare tables as flushes have nested: none is made again once warm.
        public readonly Stack<Dictionary<StackThread, List<(byte[] Buffer, int Length, int SegmentSize)>>> Spares = new();
    }

    [ThreadStatic] private static Outbox? t_outbox;

    /// <summary>Joins <paramref name="thread"/>'s stack to the link (and makes the link its output).</summary>
    public void Attach(StackThread thread)
    {
        lock (_attach) Volatile.Write(ref _threads, [.. _threads, thread]);
        thread.Stack.Output = this;
    }

    /// <summary>True: nothing between two threads corrupts a byte, so checksums are not computed.</summary>
    public bool CompletesTcpChecksums => true;

    /// <summary>Up to 64 KB per segment: the receiver takes it whole, as GRO would have made it.</summary>
    public int MaxSegmentBytes => 65535 - 120;

    /// <summary>Takes a packet of up to 64 KB to be cut at <paramref name="segmentSize"/> (GSO).</summary>
    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet, int segmentSize)
    {
        if (!Synack.Wire.IpHeader.TryParse(packet, out var ip, out _)) return;
        var to = Find(ip.Destination);
        if (to is null) return;
        var box = t_outbox ??= new Outbox();
        Seal(box);
        Queue(box, to, packet, segmentSize);
    }

    /// <summary>Takes one packet; consecutive segments of one burst are joined (GRO).</summary>
    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
    {
        if (!Synack.Wire.IpHeader.TryParse(packet, out var ip, out _)) return;
        var to = Find(ip.Destination);
        if (to is null) return;
        var box = t_outbox ??= new Outbox();
        if (!box.Builder.IsEmpty && box.BuildingFor == to && box.Builder.TryAppend(packet)) return;
        Seal(box);
        if (box.Builder.TryAppend(packet))
        {
            box.BuildingFor = to;
            return;
        }
        // Not a data segment: as it is, after what came before it.
        Queue(box, to, packet, 0);
    }

    /// <summary>The stack working on this thread is letting go: its packets go to their receivers, one batch each.</summary>
    public void Flush()
    {
        if (t_outbox is not { } box) return;
        Seal(box);
        // Handing a batch over may run the receiver on this thread at once (StackThread.Post), and what
        // it sends lands in this same outbox: the batches go out of it before any is handed over.
        var ready = box.Ready;
        box.Ready = box.Spares.TryPop(out var table) ? table : [];
        foreach (var (to, list) in ready)
        {
            if (list.Count == 0) continue;
            var delivery = _deliveries.TryDequeue(out var spare) ? spare : new Delivery(this);
            delivery.Take(to, list);
            to.Post(delivery.Run);
        }
        box.Spares.Push(ready);
    }

    // Batches in flight are few (one per receiver per flush): their holders are reused, so a flush
    // allocates nothing once the link has run a while.
    private readonly System.Collections.Concurrent.ConcurrentQueue<Delivery> _deliveries = new();

    /// <summary>One batch on its way to a receiver, run on the receiver's loop; then back to the link's spares.</summary>
    private sealed class Delivery
    {
        private readonly ThreadLink _link;
        private readonly List<(byte[] Buffer, int Length, int SegmentSize)> _batch = [];
        private StackThread? _to;
        public readonly Action Run;

        public Delivery(ThreadLink link)
        {
            _link = link;
            Run = Deliver;
        }

        public void Take(StackThread to, List<(byte[] Buffer, int Length, int SegmentSize)> packets)
        {
            _to = to;
            _batch.AddRange(packets);
            packets.Clear();
        }

        private void Deliver()
        {
            var to = _to!;
            try
            {
                foreach (var (buffer, length, segmentSize) in _batch)
                {
                    try
                    {
                        to.Stack.Receive(buffer.AsSpan(0, length), to.Now, segmentSize, checksumOffloaded: true);
                    }
                    finally
                    {
                        System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
                    }
                }
            }
            finally
            {
                _batch.Clear();
                _to = null;
                _link._deliveries.Enqueue(this);
            }
        }
    }

    private StackThread? Find(Synack.Wire.IpAddr destination)
    {
        foreach (var t in Volatile.Read(ref _threads))
        {
            if (t.Stack.Options.Addresses.Contains(destination)) return t;
        }
        return null;
    }

    /// <summary>The packet being built is done: into its receiver's batch.</summary>
    private static void Seal(Outbox box)
    {
        if (box.Builder.IsEmpty || box.BuildingFor is not { } to) return;
        int segments = box.Builder.Segments, size = box.Builder.SegmentSize;
        var packet = box.Builder.Complete();
        Queue(box, to, packet, segments > 1 ? size : 0);
        box.BuildingFor = null;
    }

    private static void Queue(Outbox box, StackThread to, ReadOnlySpan<byte> packet, int segmentSize)
    {
        // A pooled copy: the sender's buffer is reused as soon as this returns.
        var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(packet.Length);
        packet.CopyTo(copy);
        if (!box.Ready.TryGetValue(to, out var list)) box.Ready[to] = list = [];
        list.Add((copy, packet.Length, segmentSize));
    }
}
