using System.Buffers;
using System.Collections.Concurrent;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Tun;

/// <summary>
/// A Linux TUN device (IFF_TUN, IFF_NO_PI, and with offload IFF_VNET_HDR) as a link for one stack: the
/// kernel on the other side. A dedicated thread polls the device (and an eventfd, to wake it for a
/// clean shutdown), reads every packet that is waiting and posts them to the stack's loop as one
/// batch. With offload, the data segments one burst sends to one connection go to the kernel as one
/// GSO packet of up to 64 KB (<see cref="SegmentCoalescer"/>), written when the loop runs out of work.
/// </summary>
public sealed unsafe class TunLink : IBatchingPacketSink, IDisposable
{
    private const int ReadBatch = 64;
    /// <summary>
    /// Packets, and bytes of buffer, queued for the device at most (a qdisc's txqueuelen): beyond either
    /// a packet is dropped and counted in <see cref="WriteErrors"/>. The bytes bound what the queue can
    /// hold whatever packets fill it (8,192 GSO packets would be a gigabyte of buffers).
    /// </summary>
    private const int OutboxLimit = 8192;
    private const long OutboxByteLimit = 64L << 20; // a qdisc of 1,000 GSO packets holds as much
    private readonly bool _offload;
    private readonly SegmentCoalescer? _coalescer;
    // Packets made under the stack's lock, written after it is let go (WriteQueued), in order: a write
    // to the device runs the kernel's receive path for the packet inside the system call, and a profile
    // found the stack's other threads spinning for the lock meanwhile.
    private readonly ConcurrentQueue<(byte[] Buffer, int Length)> _outbox = new();
    private int _queued;
    private long _queuedBytes;
    private int _writing; // 1 while a thread writes the outbox
    private readonly int _fd;
    private readonly int _wake;
    private readonly StackThread _loop;
    private readonly Thread _reader;
    private readonly int _mtu;
    private volatile bool _stopping;

    private TunLink(int fd, int wake, string name, StackThread loop, int mtu, bool offload)
    {
        _offload = offload;
        if (offload)
        {
            _coalescer = new SegmentCoalescer(Native.VnetHeaderLength);
            _coalescer.TakeBuffer(ArrayPool<byte>.Shared.Rent(_coalescer.BufferSize)); // every buffer it hands over is then the pool's
        }
        _fd = fd;
        _wake = wake;
        Name = name;
        _loop = loop;
        _mtu = mtu;
        loop.Stack.Output = this;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"tun {name}" };
        _reader.Start();
    }

    /// <summary>The device's name.</summary>
    public string Name { get; }
    /// <summary>Packets read from the device.</summary>
    public long PacketsRead { get; private set; }
    /// <summary>Packets written to the device.</summary>
    public long PacketsWritten { get; private set; }
    /// <summary>Writes the device refused, and packets the full outbox dropped (counted from the writing thread and the stack's).</summary>
    public long WriteErrors => Interlocked.Read(ref _writeErrors);
    private long _writeErrors;
    /// <summary>GSO packets written (each several segments) and the segments they carried.</summary>
    public long OffloadPackets { get; private set; }
    /// <summary>Segments carried by <see cref="OffloadPackets"/>.</summary>
    public long OffloadSegments { get; private set; }

    /// <summary>Opens (creating if needed) the TUN device <paramref name="name"/> and starts reading it into <paramref name="loop"/>'s stack.</summary>
    /// <param name="offload">Segmentation offload: bursts of segments go to the kernel as GSO packets (IFF_VNET_HDR).</param>
    /// <param name="multiQueue">One queue of a multi-queue device (IFF_MULTI_QUEUE): see <see cref="OpenQueues"/>.</param>
    public static TunLink Open(string name, StackThread loop, int mtu = 1500, bool offload = true, bool multiQueue = false)
    {
        if (mtu is < 576 or > 65535) throw new ArgumentOutOfRangeException(nameof(mtu), "MTU must be 576..65535");
        int fd = TunDevice.Open(name, (short)((offload ? Native.IFF_VNET_HDR : 0) | (multiQueue ? Native.IFF_MULTI_QUEUE : 0)));
        // Receive offload: the kernel may hand us its TSO packets whole (up to 64 KB, cut at gso_size)
        // with the checksum left partial, as it hands them to a virtio NIC — one read, one pass
        // through the stack for what would have been dozens of segments.
        if (offload && Native.IoctlValue(fd, Native.TUNSETOFFLOAD, Native.TUN_F_CSUM | Native.TUN_F_TSO4 | Native.TUN_F_TSO6) < 0)
        {
            var err = Native.Error();
            Native.Close(fd);
            throw new IOException($"TUNSETOFFLOAD {name}: {err}");
        }
        int wake = Native.EventFd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (wake < 0)
        {
            var err = Native.Error();
            Native.Close(fd);
            throw new IOException($"eventfd: {err}");
        }
        return new TunLink(fd, wake, name, loop, mtu, offload);
    }

    /// <summary>
    /// A multi-queue device (IFF_MULTI_QUEUE) with one queue per stack shard, each read by a thread of
    /// its own into its shard. The kernel keeps a flow on one queue: a flow it has not seen goes to the
    /// queue its 4-tuple hashes to, and one a shard starts is learned from the queue the shard writes
    /// its packets to (tun's flow table) — so every packet of a connection reaches the shard that
    /// holds it, whoever opened it, with nothing shared between the shards.
    /// </summary>
    public static TunLink[] OpenQueues(string name, IReadOnlyList<StackThread> shards, int mtu = 1500, bool offload = true)
    {
        if (shards.Count == 0) throw new ArgumentException("at least one shard", nameof(shards));
        if (shards.Count == 1) return [Open(name, shards[0], mtu, offload)];
        var links = new List<TunLink>();
        try
        {
            foreach (var shard in shards) links.Add(Open(name, shard, mtu, offload, multiQueue: true));
        }
        catch
        {
            foreach (var l in links) l.Dispose();
            throw;
        }
        return [.. links];
    }

    /// <summary>
    /// Creates the device inside the named network namespace (as made by <c>ip netns add</c>) without
    /// moving this process there: a helper thread enters the namespace, opens the device and leaves.
    /// The device never exists in the caller's namespace; <see cref="Configure"/> then sets it up there.
    /// </summary>
    public static TunLink OpenInNamespace(string netns, string name, StackThread loop, int mtu = 1500, bool offload = true) =>
        OpenQueuesInNamespace(netns, name, [loop], mtu, offload)[0];

    /// <summary><see cref="OpenQueues"/> inside the named network namespace, as <see cref="OpenInNamespace"/> does it.</summary>
    public static TunLink[] OpenQueuesInNamespace(string netns, string name, IReadOnlyList<StackThread> shards, int mtu = 1500, bool offload = true)
    {
        var opened = TunDevice.InNamespace(netns, () => OpenQueues(name, shards, mtu, offload));
        foreach (var link in opened) link.Namespace = netns;
        return opened;
    }

    /// <summary>The namespace the device lives in, when made by <see cref="OpenInNamespace"/>.</summary>
    public string? Namespace { get; private set; }

    /// <summary>Gives the kernel side of the device an address and brings it up (runs iproute2's <c>ip</c>).</summary>
    public void Configure(string peerAddressWithPrefix)
    {
        RunIp($"addr add {peerAddressWithPrefix} dev {Name}");
        // The queue holds what the kernel hands us while our reader is off the CPU: tun's 500 packets
        // are 4 ms of a SYN flood, one scheduler slice on a busy machine, and what overflows is lost
        // (a real client's SYN among it). 4,096 ride out a few slices (35 ms at 120,000 packets/s).
        RunIp($"link set dev {Name} mtu {_mtu} txqueuelen {QueueLength} up");
    }

    /// <summary>Packets the kernel may queue for each of the device's readers (its txqueuelen).</summary>
    public const int QueueLength = 4096;

    /// <summary>Takes the kernel side of the device down or up (a cable pulled, or put back).</summary>
    public void SetUp(bool up) => RunIp($"link set dev {Name} {(up ? "up" : "down")}");

    private void RunIp(string args) => TunDevice.RunIp(Namespace, args);

    /// <summary>Writes one packet to the device.</summary>
    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
    {
        if (_coalescer is not { } c)
        {
            WriteOut(packet);
            return;
        }
        if (c.TryAppend(packet)) return;
        Flush();
        if (c.TryAppend(packet)) return;
        // Not a data segment (a SYN, an ACK, a RST): alone, checksum still the kernel's to finish.
        WriteAlone(packet, 0);
    }

    /// <summary>One packet behind its own virtio header; <paramref name="segmentSize"/> &gt; 0 asks the kernel to cut it (with GSO's ECN flag when it carries CWR).</summary>
    private void WriteAlone(ReadOnlySpan<byte> packet, int segmentSize)
    {
        var buf = ArrayPool<byte>.Shared.Rent(Native.VnetHeaderLength + packet.Length);
        packet.CopyTo(buf.AsSpan(Native.VnetHeaderLength));
        QueueAlone(buf, packet.Length, segmentSize);
    }

    /// <summary><see cref="WriteAlone"/> for a packet already in <paramref name="buf"/> behind room for the virtio header: queued as it is.</summary>
    private void QueueAlone(byte[] buf, int length, int segmentSize)
    {
        var packet = buf.AsSpan(Native.VnetHeaderLength, length);
        int ipLength = SegmentCoalescer.TcpHeaderOffset(packet);
        if (packet.Length > 65535 || segmentSize > 0 && ipLength == 0)
        {
            ArrayPool<byte>.Shared.Return(buf);
            Interlocked.Increment(ref _writeErrors);
            return;
        }
        byte gso = Native.VIRTIO_NET_HDR_GSO_NONE;
        int headerLength = 0;
        if (segmentSize > 0)
        {
            headerLength = ipLength + (packet[ipLength + 12] >> 4) * 4;
            gso = packet[0] >> 4 == 6 ? Native.VIRTIO_NET_HDR_GSO_TCPV6 : Native.VIRTIO_NET_HDR_GSO_TCPV4;
            if ((packet[ipLength + 13] & 0x80) != 0) gso |= Native.VIRTIO_NET_HDR_GSO_ECN; // CWR
            OffloadPackets++;
            OffloadSegments += Math.Max(1, (length - headerLength + segmentSize - 1) / segmentSize);
        }
        VirtioHeader(buf.AsSpan(0, Native.VnetHeaderLength), ipLength, gso, headerLength, segmentSize);
        Queue(buf, Native.VnetHeaderLength + length);
    }

    /// <summary>With offload, room for the virtio header before a packet the stack hands over whole.</summary>
    public int Headroom => _offload ? Native.VnetHeaderLength : 0;

    /// <summary>
    /// A TSO segment built behind <see cref="Headroom"/>: one that nothing more could join (the stack's
    /// own 64 KB segments) goes to the device's queue in the buffer it was built in — the copy into the
    /// builder was one more pass over every byte of a download; a smaller one joins the burst as before.
    /// </summary>
    public void TransmitOwned(INetworkNode from, byte[] buffer, int length, int segmentSize)
    {
        if (_coalescer is not { } c) // no offload: the stack is offered no TSO, so this is only a caller's own packet
        {
            WriteOut(buffer.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        var packet = buffer.AsSpan(Native.VnetHeaderLength, length);
        if (!c.IsEmpty)
        {
            if (c.TryAppend(packet, segmentSize))
            {
                ArrayPool<byte>.Shared.Return(buffer);
                return;
            }
            Flush();
        }
        if (length + segmentSize <= 65535 && c.TryAppend(packet, segmentSize))
        {
            ArrayPool<byte>.Shared.Return(buffer); // room for more of the burst behind it
            return;
        }
        QueueAlone(buffer, length, segmentSize);
    }

    /// <summary>With offload the kernel finishes our TCP checksums.</summary>
    public bool CompletesTcpChecksums => _offload;

    /// <summary>
    /// The stack's own TSO, up to what one GSO packet holds (64 KB less the headers). It measured slower
    /// here than joining MSS segments at the device until the sender held data the application said more
    /// would follow (MSG_MORE) until it filled its segment: before, each 4 KB pipe block left as a TSO
    /// segment of its own. With it (2026-12-07, same bench): download CPU per GiB 1.21–1.27× the
    /// kernel's → 0.78×, the file server 34 Gbit/s.
    /// </summary>
    public int MaxSegmentBytes => _offload ? 65535 - 120 : 0;

    /// <summary>Writes a packet of up to 64 KB for the kernel to cut at <paramref name="segmentSize"/> (GSO).</summary>
    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet, int segmentSize)
    {
        if (_coalescer is not { } c)
        {
            WriteOut(packet);
            return;
        }
        // A TSO segment joins the packet being built like any burst: written when the loop runs out of work.
        if (c.TryAppend(packet, segmentSize)) return;
        Flush();
        if (c.TryAppend(packet, segmentSize)) return;
        // One the builder does not take (CWR set): alone, with GSO's ECN flag.
        WriteAlone(packet, segmentSize);
    }

    /// <summary>Writes the packet being built (the loop calls this whenever it runs out of work).</summary>
    public void Flush()
    {
        if (_coalescer is not { IsEmpty: false } c) return;
        int segments = c.Segments;
        byte gso = segments == 1 ? Native.VIRTIO_NET_HDR_GSO_NONE : c.IsV6 ? Native.VIRTIO_NET_HDR_GSO_TCPV6 : Native.VIRTIO_NET_HDR_GSO_TCPV4;
        int ipLength = c.IpHeaderLength, headerLength = c.HeaderLength, segmentSize = c.SegmentSize;
        var frame = c.Complete();
        VirtioHeader(frame[..Native.VnetHeaderLength], ipLength, gso, headerLength, segmentSize);
        int length = frame.Length;
        Queue(c.TakeBuffer(ArrayPool<byte>.Shared.Rent(c.BufferSize)), length); // handed over, not copied
        if (segments > 1)
        {
            OffloadPackets++;
            OffloadSegments += segments;
        }
    }

    /// <summary>
    /// struct virtio_net_hdr (host byte order): for a TCP packet (<paramref name="ipLength"/> &gt; 0) the
    /// checksum is the kernel's to finish from the IP header on; a GSO type asks it to cut the packet
    /// into <paramref name="segmentSize"/>-byte segments.
    /// </summary>
    private static void VirtioHeader(Span<byte> hdr, int ipLength, byte gsoType, int headerLength, int segmentSize)
    {
        hdr.Clear();
        if (ipLength == 0) return;
        hdr[0] = Native.VIRTIO_NET_HDR_F_NEEDS_CSUM;
        hdr[1] = gsoType;
        if (gsoType != Native.VIRTIO_NET_HDR_GSO_NONE)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[2..], (ushort)headerLength);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[4..], (ushort)segmentSize);
        }
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[6..], (ushort)ipLength);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[8..], 16);
    }

    /// <summary>A packet without offload: copied into the outbox.</summary>
    private void WriteOut(ReadOnlySpan<byte> bytes)
    {
        var buf = ArrayPool<byte>.Shared.Rent(bytes.Length);
        bytes.CopyTo(buf);
        Queue(buf, bytes.Length);
    }

    private void Queue(byte[] buffer, int length)
    {
        if (Volatile.Read(ref _queued) >= OutboxLimit || Interlocked.Read(ref _queuedBytes) + buffer.Length > OutboxByteLimit)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            Interlocked.Increment(ref _writeErrors); // the device's queue is full: dropped, as a qdisc drops
            return;
        }
        Interlocked.Increment(ref _queued);
        Interlocked.Add(ref _queuedBytes, buffer.Length);
        _outbox.Enqueue((buffer, length));
    }

    /// <summary>Writes what is queued, unless another thread is writing it (which then writes ours too).</summary>
    public void WriteQueued()
    {
        while (!_outbox.IsEmpty)
        {
            if (Interlocked.CompareExchange(ref _writing, 1, 0) != 0) return;
            while (_outbox.TryDequeue(out var frame))
            {
                Interlocked.Decrement(ref _queued);
                Interlocked.Add(ref _queuedBytes, -frame.Buffer.Length);
                fixed (byte* p = frame.Buffer)
                {
                    if (Native.Write(_fd, p, (nuint)frame.Length) < 0) Interlocked.Increment(ref _writeErrors);
                    else PacketsWritten++;
                }
                ArrayPool<byte>.Shared.Return(frame.Buffer);
            }
            // Then look again: a packet queued after the last look by a thread that saw this one writing.
            Interlocked.Exchange(ref _writing, 0);
        }
    }

    /// <summary>
    /// After a batch, the reader gives its core away this many times, looking again after each, before
    /// it sleeps in poll: the next packet (the kernel client's ACK of the answer just written, the next
    /// request) is often there by then, and a sleep and a wake-up cost more than the look. The kernel takes
    /// such packets in softirq on whatever CPU is running; sleeping for each, the reader woke 11,200 times
    /// per 150,000 HTTP/2 requests (the kernel's epoll thread 6,400), 1,000 times with three yields.
    /// A/B in one session: h2load 0.81 → 0.93–0.99× the kernel's (CPU 1.25 → 1.03–1.07×), wrk 1.00 →
    /// 1.22×, a 500 MiB download 0.76 → 0.95× (CPU 1.38 → 1.13×). A yield with nothing else to run
    /// returns at once, so an idle link costs three empty reads per batch, no more.
    /// </summary>
    private const int YieldsBeforeSleeping = 3;

    private void ReadLoop()
    {
        var fds = stackalloc Native.PollFd[2];
        fds[0] = new Native.PollFd { Fd = _fd, Events = Native.POLLIN };
        fds[1] = new Native.PollFd { Fd = _wake, Events = Native.POLLIN };
        int header = _offload ? Native.VnetHeaderLength : 0;
        int size = header + (_offload ? 65535 : Math.Max(_mtu, 2048));
        int idle = YieldsBeforeSleeping; // the first look sleeps in poll
        while (!_stopping)
        {
            if (idle >= YieldsBeforeSleeping)
            {
                fds[0].Revents = 0;
                fds[1].Revents = 0;
                int r = Native.Poll(fds, 2, 1000);
                if (r <= 0 || _stopping || (fds[1].Revents & Native.POLLIN) != 0) continue;
                if ((fds[0].Revents & Native.POLLIN) == 0) continue;
            }
            else
            {
                Thread.Yield();
            }
            // Everything waiting, up to a batch, goes to the loop as one piece of work: a batch from the
            // link's few, not one made per wake-up (two kilobytes a wake, 11,000 wakes for 150,000 HTTP/2 requests).
            var batch = TakeBatch();
            int count = 0;
            while (count < ReadBatch)
            {
                var buf = ArrayPool<byte>.Shared.Rent(size);
                nint n;
                fixed (byte* b = buf) n = Native.Read(_fd, b, (nuint)size);
                if (n <= header)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    break; // EAGAIN: drained
                }
                int segmentSize = 0;
                bool valid = false;
                if (header > 0 && !CompleteChecksum(buf.AsSpan(0, (int)n), out segmentSize, out valid))
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    continue;
                }
                batch.Packets[count++] = new ReadPacket(buf, header, (int)n - header, segmentSize, valid);
            }
            if (count == 0)
            {
                _batches.Enqueue(batch);
                idle++;
                continue;
            }
            idle = 0;
            PacketsRead += count;
            batch.Count = count;
            _loop.Post(batch.Deliver);
        }
    }

    private readonly ConcurrentQueue<PacketBatch> _batches = new();

    private PacketBatch TakeBatch() => _batches.TryDequeue(out var batch) ? batch : new PacketBatch(this);

    private readonly record struct ReadPacket(byte[] Buffer, int Offset, int Length, int SegmentSize, bool Checked);

    /// <summary>Packets read in one wake-up, handed to the stack's loop; back to the link once delivered.</summary>
    private sealed class PacketBatch
    {
        private readonly TunLink _link;
        public readonly ReadPacket[] Packets = new ReadPacket[ReadBatch];
        public int Count;
        public readonly Action Deliver;

        public PacketBatch(TunLink link)
        {
            _link = link;
            Deliver = Run;
        }

        private void Run()
        {
            var loop = _link._loop;
            try
            {
                for (int k = 0; k < Count; k++)
                {
                    var (buf, offset, len, segmentSize, valid) = Packets[k];
                    Packets[k] = default;
                    try
                    {
                        // A checksum completed here, or one the kernel says it validated, is not summed twice.
                        loop.Stack.Receive(buf.AsSpan(offset, len), loop.Now, segmentSize, checksumOffloaded: valid);
                    }
                    finally
                    {
                        ArrayPool<byte>.Shared.Return(buf);
                    }
                }
            }
            finally
            {
                Count = 0;
                _link._batches.Enqueue(this);
            }
        }
    }

    /// <summary>
    /// A packet the kernel left with a partial checksum (its virtio header says NEEDS_CSUM) gets the
    /// sum finished here (so a capture shows it right) and needs no second look; one the kernel
    /// validated (DATA_VALID) neither; any other (forwarded from elsewhere, say) is checked by the
    /// stack. A TSO packet (TUNSETOFFLOAD asked for them) says where to cut it: gso_size.
    /// </summary>
    private const byte VirtioDataValid = 2;

    private static bool CompleteChecksum(Span<byte> frame, out int segmentSize, out bool valid)
    {
        var hdr = frame[..Native.VnetHeaderLength];
        segmentSize = 0;
        valid = (hdr[0] & VirtioDataValid) != 0;
        byte gso = (byte)(hdr[1] & ~Native.VIRTIO_NET_HDR_GSO_ECN);
        if (gso is Native.VIRTIO_NET_HDR_GSO_TCPV4 or Native.VIRTIO_NET_HDR_GSO_TCPV6)
            segmentSize = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(hdr[4..]); // a TSO packet: cut at gso_size
        else if (gso != Native.VIRTIO_NET_HDR_GSO_NONE) return false;
        if ((hdr[0] & Native.VIRTIO_NET_HDR_F_NEEDS_CSUM) == 0) return true;
        valid = true;
        // A TSO packet's field holds the pseudo-header sum without the length (each cut segment has its
        // own): nothing to complete over the whole, and the kernel's data needs no second look.
        if (segmentSize > 0) return true;
        int start = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(hdr[6..]);
        int offset = System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(hdr[8..]);
        var packet = frame[Native.VnetHeaderLength..];
        if (start + offset + 2 > packet.Length) return false;
        // The field holds the pseudo-header's sum; the sum over the rest, complemented, completes it.
        ushort sum = Synack.Wire.InternetChecksum.Compute(packet[start..]);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(packet[(start + offset)..], sum == 0 ? (ushort)0xffff : sum);
        return true;
    }

    /// <summary>Stops reading and closes the device.</summary>
    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        Native.Write(_wake, (byte*)&one, 8);
        _reader.Join(TimeSpan.FromSeconds(5));
        WriteQueued();
        Native.Close(_fd);
        Native.Close(_wake);
    }
}
