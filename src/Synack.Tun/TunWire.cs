using System.Buffers;
using System.Diagnostics;
using Synack.Simulation;

namespace Synack.Tun;

/// <summary>
/// A wire between two kernels, each in a network namespace of its own with one TUN device: what one
/// kernel sends out of its device comes in at the other's, with the fate <see cref="MemoryLink"/>
/// gives packets on virtual time (<see cref="LinkModel"/>: a sender's rate and bounded queue, latency,
/// seeded loss, duplication, reordering and corruption), here in real time. Wherever netem is
/// missing, this is the lossy link that real stacks (kernel to kernel, kernel to us) are tested over;
/// each direction draws from its own seed, so the n-th packet one way meets the same fate on every run.
/// </summary>
internal sealed unsafe class TunWire : IDisposable
{
    /// <summary>Packets on the wire at once, each way, whatever the options say: what bounds its memory.</summary>
    public const int MaxInFlight = 10_000;

    private readonly int _a, _b; // the two devices: each direction reads one and writes the other
    private readonly Direction _ab;
    private readonly Direction _ba;

    private TunWire(int a, int b, Direction ab, Direction ba)
    {
        _a = a;
        _b = b;
        _ab = ab;
        _ba = ba;
    }

    /// <summary>One direction's counters: A to B (<see cref="Forward"/>) and B to A (<see cref="Backward"/>).</summary>
    public WireCounters Forward => _ab.Counters;
    public WireCounters Backward => _ba.Counters;

    /// <summary>
    /// Creates device <paramref name="deviceA"/> in namespace <paramref name="netnsA"/> with address
    /// <paramref name="addressA"/> (with its prefix, as "192.0.2.1/24") and the same for B, brings both up
    /// and starts carrying packets between them.
    /// </summary>
    public static TunWire Open(string netnsA, string deviceA, string addressA, string netnsB, string deviceB, string addressB, LinkConditions options, int mtu = 1500)
    {
        if (mtu is < 576 or > 65535) throw new ArgumentOutOfRangeException(nameof(mtu), "MTU must be 576..65535");
        int a = TunDevice.InNamespace(netnsA, () => TunDevice.Open(deviceA, 0)), b = -1;
        Direction? ab = null, ba = null;
        try
        {
            b = TunDevice.InNamespace(netnsB, () => TunDevice.Open(deviceB, 0));
            ab = new Direction($"wire {deviceA}>{deviceB}", a, b, options, options.Seed ?? 1);
            ba = new Direction($"wire {deviceB}>{deviceA}", b, a, options, unchecked((options.Seed ?? 1) * 31 + 7));
            foreach (var (ns, dev, addr) in new[] { (netnsA, deviceA, addressA), (netnsB, deviceB, addressB) })
            {
                TunDevice.RunIp(ns, $"addr add {addr} dev {dev}");
                TunDevice.RunIp(ns, $"link set dev {dev} mtu {mtu} up");
            }
            ab.Start();
            ba.Start();
            return new TunWire(a, b, ab, ba);
        }
        catch
        {
            Close(ab, ba, a, b);
            throw;
        }
    }

    public void Dispose() => Close(_ab, _ba, _a, _b);

    private static void Close(Direction? ab, Direction? ba, int a, int b)
    {
        ab?.Stop();
        ba?.Stop();
        ab?.Close();
        ba?.Close();
        Native.Close(a);
        if (b >= 0) Native.Close(b);
    }

    /// <summary>Reads one device, holds each packet for its time on the wire and writes it to the other.</summary>
    private sealed class Direction
    {
        private readonly int _from;
        private readonly int _to;
        private readonly int _wake;
        private readonly LinkConditions _options;
        private readonly LinkModel _model;
        private readonly SenderQueue _queue = new();
        private readonly long _start = Stopwatch.GetTimestamp(); // the wire's time 0
        private readonly Thread _thread;
        // Due time since the wire's time 0, then arrival order: equal times leave in the order they came.
        private readonly PriorityQueue<(byte[] Buffer, int Length), (TimeSpan Due, long Order)> _inFlight = new();
        private long _order;
        private volatile bool _stopping;

        public Direction(string name, int from, int to, LinkConditions options, int seed)
        {
            _from = from;
            _to = to;
            _options = options;
            _model = new LinkModel(seed);
            _wake = Native.EventFd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
            if (_wake < 0) throw new IOException($"eventfd: {Native.Error()}");
            _thread = new Thread(Run) { IsBackground = true, Name = name };
        }

        public WireCounters Counters { get; } = new();

        public void Start() => _thread.Start();

        public void Stop()
        {
            _stopping = true;
            ulong one = 1;
            Native.Write(_wake, (byte*)&one, 8);
            if (_thread.IsAlive) _thread.Join(TimeSpan.FromSeconds(5));
        }

        /// <summary>Its eventfd and the packets still on the wire; the devices are the wire's to close.</summary>
        public void Close()
        {
            Native.Close(_wake);
            while (_inFlight.TryDequeue(out var p, out _)) ArrayPool<byte>.Shared.Return(p.Buffer);
        }

        private void Run()
        {
            var fds = stackalloc Native.PollFd[2];
            fds[0] = new Native.PollFd { Fd = _from, Events = Native.POLLIN };
            fds[1] = new Native.PollFd { Fd = _wake, Events = Native.POLLIN };
            while (!_stopping)
            {
                int timeout = 1000;
                if (_inFlight.TryPeek(out _, out var next))
                {
                    var wait = next.Due - Now;
                    timeout = wait <= TimeSpan.Zero ? 0 : (int)Math.Min(1000, Math.Ceiling(wait.TotalMilliseconds));
                }
                fds[0].Revents = 0;
                fds[1].Revents = 0;
                int r = Native.Poll(fds, 2, timeout);
                if (_stopping) break;
                if (r > 0 && (fds[0].Revents & Native.POLLIN) != 0) ReadAll();
                WriteDue();
            }
        }

        private void ReadAll()
        {
            for (int i = 0; i < 256; i++)
            {
                var buf = ArrayPool<byte>.Shared.Rent(65536);
                nint n;
                fixed (byte* b = buf) n = Native.Read(_from, b, (nuint)buf.Length);
                if (n <= 0)
                {
                    ArrayPool<byte>.Shared.Return(buf);
                    return; // EAGAIN: drained
                }
                Carry(buf, (int)n);
            }
        }

        private TimeSpan Now => Stopwatch.GetElapsedTime(_start);

        /// <summary>Gives the packet the link model's fate, as <see cref="MemoryLink"/> does on virtual time.</summary>
        private void Carry(byte[] buf, int length)
        {
            var fate = _model.Next(_options, _queue, length, Now);
            switch (fate.Verdict)
            {
                case PacketVerdict.TailDropped:
                    Counters.TailDropped++;
                    ArrayPool<byte>.Shared.Return(buf);
                    return;
                case PacketVerdict.Lost:
                    Counters.Lost++;
                    ArrayPool<byte>.Shared.Return(buf);
                    return;
            }
            if (fate.CorruptAt >= 0)
            {
                Counters.Corrupted++;
                fate.ApplyCorruption(buf.AsSpan(0, length));
            }
            if (fate.Reordered) Counters.Reordered++;
            if (!Enqueue(buf, length, fate.Arrives)) return;
            if (fate.Duplicated)
            {
                var copy = ArrayPool<byte>.Shared.Rent(length);
                buf.AsSpan(0, length).CopyTo(copy);
                if (Enqueue(copy, length, fate.Arrives + TimeSpan.FromTicks(1))) Counters.Duplicated++;
            }
        }

        private bool Enqueue(byte[] buf, int length, TimeSpan due)
        {
            if (_inFlight.Count >= MaxInFlight)
            {
                Counters.TailDropped++;
                ArrayPool<byte>.Shared.Return(buf);
                return false;
            }
            _inFlight.Enqueue((buf, length), (due, _order++));
            return true;
        }

        private void WriteDue()
        {
            var now = Now;
            while (_inFlight.TryPeek(out _, out var at) && at.Due <= now)
            {
                var (buf, length) = _inFlight.Dequeue();
                nint n;
                fixed (byte* b = buf) n = Native.Write(_to, b, (nuint)length);
                if (n < 0) Counters.WriteErrors++;
                else Counters.Carried++;
                ArrayPool<byte>.Shared.Return(buf);
            }
        }
    }
}

/// <summary>What one direction of a <see cref="TunWire"/> did with the packets it read.</summary>
internal sealed class WireCounters
{
    public long Carried { get; internal set; }
    public long Lost { get; internal set; }
    public long TailDropped { get; internal set; }
    public long Duplicated { get; internal set; }
    public long Reordered { get; internal set; }
    public long Corrupted { get; internal set; }
    /// <summary>Writes the receiving kernel refused (its device down, say).</summary>
    public long WriteErrors { get; internal set; }

    public override string ToString() =>
        $"{Carried} carried, {Lost} lost, {TailDropped} tail-dropped, {Duplicated} duplicated, {Reordered} reordered, {Corrupted} corrupted, {WriteErrors} write errors";
}
