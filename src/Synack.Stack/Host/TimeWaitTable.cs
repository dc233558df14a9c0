using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// Every TIME-WAIT connection of a stack, packed: one 72-byte struct per entry in one array (chained
/// by index from a bucket array, grown by half), the local address and the connection options as
/// small indexes into lists the entries share, and for expiry one FIFO of slot numbers per MSL —
/// entries with one MSL expire in the order they entered (a FIN that restarts 2 MSL sends its entry
/// to the back when its old time comes) — instead of a timer object each. What TIME-WAIT's rules
/// need is rebuilt as a <see cref="TimeWaitState"/> only when a segment arrives for one of them. The
/// arrays shrink back when the table empties. No entry ever expires early; a restarted one may
/// expire a little late.
/// </summary>
internal sealed class TimeWaitTable
{
    private const int InitialCapacity = 16;
    private const byte InUse = 1, Timestamps = 2, Orphaned = 4, Restarted = 8;

    private struct Slot
    {
        public IpAddr Remote;
        public SeqNum SndNxt, RcvNxt;
        public uint TsRecent, TsOffset, AcceptWindow;
        public long ExpiresTicks;
        public int Next;          // the next slot in the bucket's chain, or (free) in the free list; -1 ends
        public ushort LocalPort, RemotePort, Window;
        public ushort Local, Options;
        public ushort Generation;  // tells a queued slot number from a reused slot's
        public byte Dscp, HopLimit, Flags;
    }

    private Slot[] _slots = new Slot[InitialCapacity];
    private int[] _buckets = NewBuckets(InitialCapacity);
    private int _used;              // slots ever handed out (the rest of the array is untouched)
    private int _free = -1;
    private readonly List<IpAddr> _locals = [];
    private readonly List<ConnectionOptions> _options = [];
    private readonly Dictionary<long, Queue<long>> _expiries = []; // MSL ticks -> (slot << 16 | generation), oldest first
    private readonly List<Queue<long>> _queues = [];                // the same queues, to walk while entries come and go

    public int Count { get; private set; }

    /// <summary>When the earliest entry expires.</summary>
    public TimeSpan? NextExpiry
    {
        get
        {
            long? next = null;
            foreach (var queue in _queues)
            {
                while (queue.TryPeek(out long item))
                {
                    int i = (int)(item >> 16);
                    if (Live(i, item)) break;
                    queue.Dequeue(); // removed early: nothing to wait for
                }
                if (queue.TryPeek(out long head) && (next is null || _slots[(int)(head >> 16)].ExpiresTicks < next)) next = _slots[(int)(head >> 16)].ExpiresTicks;
            }
            return next is long ticks ? new TimeSpan(ticks) : null;
        }
    }

    private bool Live(int i, long item) => (_slots[i].Flags & InUse) != 0 && _slots[i].Generation == (ushort)item;

    public bool Contains(in FourTuple t) => Find(in t) >= 0;

    public void Add(TimeWaitState s)
    {
        var t = s.Tuple;
        if (Find(in t) is int old and >= 0) Free(old);
        int i = Allocate();
        ref var slot = ref _slots[i];
        slot = new Slot
        {
            Remote = t.RemoteAddress,
            LocalPort = t.LocalPort,
            RemotePort = t.RemotePort,
            Local = Index(_locals, t.LocalAddress),
            Options = Index(_options, s.Options),
            SndNxt = s.SndNxt,
            RcvNxt = s.RcvNxt,
            TsRecent = s.TsRecent,
            TsOffset = s.TsOffset,
            AcceptWindow = s.AcceptWindow,
            Window = s.Window,
            Dscp = s.Dscp,
            HopLimit = s.HopLimit,
            ExpiresTicks = s.Expires.Ticks,
            Flags = (byte)(InUse | (s.Timestamps ? Timestamps : 0) | (s.Orphaned ? Orphaned : 0)),
        };
        slot.Generation = _generation++;
        int b = Bucket(in t);
        slot.Next = _buckets[b];
        _buckets[b] = i;
        Count++;
        Enqueue(i, s.Options.Msl.Ticks);
    }

    private ushort _generation;

    private void Enqueue(int i, long msl)
    {
        if (!_expiries.TryGetValue(msl, out var queue))
        {
            _expiries[msl] = queue = new Queue<long>();
            _queues.Add(queue);
        }
        queue.Enqueue(((long)i << 16) | _slots[i].Generation);
    }

    /// <summary>The entry's state, rebuilt for a segment to be judged by (null: no entry).</summary>
    public TimeWaitState? Get(in FourTuple t)
    {
        int i = Find(in t);
        return i < 0 ? null : State(i);
    }

    /// <summary>A retransmitted FIN moved the expiry: the queue finds out when the old time comes.</summary>
    public void Restart(in FourTuple t, TimeSpan expires)
    {
        int i = Find(in t);
        if (i < 0) return;
        _slots[i].ExpiresTicks = expires.Ticks;
        _slots[i].Flags |= Restarted;
    }

    public bool Remove(in FourTuple t)
    {
        int i = Find(in t);
        if (i < 0) return false;
        Free(i);
        return true;
    }

    /// <summary>Removes every entry whose 2 MSL have passed by <paramref name="now"/>, telling <paramref name="expired"/> of each.</summary>
    public void ExpireDue(TimeSpan now, Action<FourTuple> expired)
    {
        for (int q = 0; q < _queues.Count; q++)
        {
            var queue = _queues[q];
            while (queue.TryPeek(out long item))
            {
                int i = (int)(item >> 16);
                if (!Live(i, item))
                {
                    queue.Dequeue();
                    continue;
                }
                ref var slot = ref _slots[i];
                if (slot.ExpiresTicks > now.Ticks)
                {
                    if ((slot.Flags & Restarted) == 0) break; // the oldest is not due: none behind it is
                    // Its 2 MSL began again: to the back, behind entries that expire before it.
                    slot.Flags &= unchecked((byte)~Restarted);
                    queue.Enqueue(queue.Dequeue());
                    continue;
                }
                queue.Dequeue();
                var tuple = TupleOf(i);
                Free(i);
                expired(tuple);
            }
        }
        if (Count == 0 && _slots.Length > InitialCapacity) Reset();
    }

    public IEnumerable<(FourTuple Tuple, TimeSpan Expires)> Entries()
    {
        for (int i = 0; i < _used; i++)
        {
            if ((_slots[i].Flags & InUse) != 0) yield return (TupleOf(i), new TimeSpan(_slots[i].ExpiresTicks));
        }
    }

    // ------------------------------------------------------------------ the array

    private TimeWaitState State(int i)
    {
        ref readonly var s = ref _slots[i];
        return TimeWaitState.Restore(_options[s.Options], TupleOf(i), s.SndNxt, s.RcvNxt, (s.Flags & Timestamps) != 0, s.Window,
            s.TsRecent, s.TsOffset, new TimeSpan(s.ExpiresTicks), s.AcceptWindow, (s.Flags & Orphaned) != 0, s.Dscp, s.HopLimit);
    }

    private FourTuple TupleOf(int i)
    {
        ref readonly var s = ref _slots[i];
        return new FourTuple(_locals[s.Local], s.LocalPort, s.Remote, s.RemotePort);
    }

    private int Find(in FourTuple t)
    {
        int local = _locals.IndexOf(t.LocalAddress);
        if (local < 0) return -1;
        for (int i = _buckets[Bucket(in t)]; i >= 0; i = _slots[i].Next)
        {
            ref readonly var s = ref _slots[i];
            if (s.LocalPort == t.LocalPort && s.RemotePort == t.RemotePort && s.Local == local && s.Remote == t.RemoteAddress) return i;
        }
        return -1;
    }

    private int Bucket(in FourTuple t) =>
        (int)((uint)HashCode.Combine(t.RemoteAddress, t.LocalPort, t.RemotePort) & (uint)(_buckets.Length - 1));

    private int Allocate()
    {
        if (_free >= 0)
        {
            int f = _free;
            _free = _slots[f].Next;
            return f;
        }
        if (_used == _slots.Length) Grow();
        return _used++;
    }

    private void Free(int i)
    {
        var t = TupleOf(i);
        int b = Bucket(in t);
        if (_buckets[b] == i) _buckets[b] = _slots[i].Next;
        else
        {
            for (int p = _buckets[b]; p >= 0; p = _slots[p].Next)
            {
                if (_slots[p].Next == i)
                {
                    _slots[p].Next = _slots[i].Next;
                    break;
                }
            }
        }
        _slots[i] = default;
        _slots[i].Next = _free;
        _free = i;
        Count--;
    }

    private void Grow()
    {
        Array.Resize(ref _slots, _slots.Length + _slots.Length / 2);
        _buckets = NewBuckets((int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)_slots.Length));
        for (int i = 0; i < _used; i++)
        {
            if ((_slots[i].Flags & InUse) == 0) continue;
            var t = TupleOf(i);
            int b = Bucket(in t);
            _slots[i].Next = _buckets[b];
            _buckets[b] = i;
        }
    }

    private void Reset()
    {
        _slots = new Slot[InitialCapacity];
        _buckets = NewBuckets(InitialCapacity);
        _used = 0;
        _free = -1;
        _locals.Clear();
        _options.Clear();
        _expiries.Clear();
        _queues.Clear();
    }

    private static int[] NewBuckets(int n)
    {
        var b = new int[n];
        Array.Fill(b, -1);
        return b;
    }

    private static ushort Index<T>(List<T> list, T value) where T : notnull
    {
        int i = list.IndexOf(value);
        if (i >= 0) return (ushort)i;
        if (list.Count == ushort.MaxValue) throw new InvalidOperationException($"more than {ushort.MaxValue} distinct {typeof(T).Name} values in TIME-WAIT");
        list.Add(value);
        return (ushort)(list.Count - 1);
    }
}
