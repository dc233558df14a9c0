using System.Numerics;

namespace Synack.Stack;

/// <summary>
/// A hierarchical timing wheel (Varghese and Lauck): four levels of 64 slots at 1 ms granularity cover
/// 4.6 hours, the rest waits in an overflow list. Arm and cancel are O(1) (unlink and link a node).
/// Advancing skips empty stretches a level at a time, so an idle hour costs a few hundred steps.
/// </summary>
internal sealed class TimerWheel<T> where T : WheelTimer<T>
{
    private const int Bits = 6;
    private const int SlotsPerLevel = 1 << Bits;
    private const int Levels = 4;
    private const int OverflowSlot = Levels * SlotsPerLevel;
    private const int DueSlot = OverflowSlot + 1;
    private readonly T?[] _heads = new T?[DueSlot + 1];
    private readonly ulong[] _occupied = new ulong[Levels];
    private long _now;

    public TimerWheel(long startMs) => _now = startMs;

    public long Now => _now;
    public int Count { get; private set; }

    public void Arm(T t, long deadlineMs)
    {
        if (t.IsArmed)
        {
            Unlink(t);
            Count--;
        }
        t.Deadline = deadlineMs;
        Insert(t);
        Count++;
    }

    public void Cancel(T t)
    {
        if (!t.IsArmed) return;
        Unlink(t);
        Count--;
    }

    /// <summary>Moves time to <paramref name="toMs"/>, adding every timer that came due to <paramref name="expired"/>.</summary>
    public void Advance(long toMs, List<T> expired)
    {
        TakeSlot(DueSlot, expired);
        while (_now < toMs)
        {
            if (Count == 0)
            {
                _now = toMs;
                return;
            }
            long next = NextInterestingTick();
            if (next > toMs)
            {
                _now = toMs;
                return;
            }
            _now = next;
            for (int level = Levels; level >= 1; level--)
            {
                long mask = (1L << (Bits * level)) - 1;
                if ((_now & mask) != 0) continue;
                if (level == Levels) Cascade(OverflowSlot);
                else Cascade(level * SlotsPerLevel + (int)((_now >> (Bits * level)) & (SlotsPerLevel - 1)));
            }
            TakeSlot((int)(_now & (SlotsPerLevel - 1)), expired);
        }
    }

    /// <summary>
    /// When to call <see cref="Advance"/> next: at or before the earliest deadline (a cascade may come
    /// first and expire nothing), never after it. Null when nothing is armed.
    /// </summary>
    public long? NextWakeup()
    {
        if (Count == 0) return null;
        if (_heads[DueSlot] is not null) return _now;
        return NextInterestingTick();
    }

    private long NextInterestingTick()
    {
        // Within level 0's current rotation: the next occupied slot.
        int pos = (int)(_now & (SlotsPerLevel - 1));
        ulong ahead = pos == SlotsPerLevel - 1 ? 0 : _occupied[0] & (ulong.MaxValue << (pos + 1));
        if (ahead != 0) return (_now & ~(long)(SlotsPerLevel - 1)) + BitOperations.TrailingZeroCount(ahead);
        // Otherwise the next boundary at which the lowest occupied level cascades (or level 0 wraps).
        int lowest = 0;
        while (lowest < Levels && _occupied[lowest] == 0) lowest++;
        long span = 1L << (Bits * Math.Max(lowest, 1));
        return (_now | (span - 1)) + 1;
    }

    private void Insert(T t, bool cascading = false)
    {
        long delta = t.Deadline - _now;
        int slot;
        if (delta <= 0 && cascading)
        {
            // Cascaded at its own deadline: this tick's level-0 slot, taken right after the cascade.
            slot = (int)(_now & (SlotsPerLevel - 1));
            _occupied[0] |= 1UL << slot;
        }
        else if (delta <= 0) slot = DueSlot;
        else if (delta >= 1L << (Bits * Levels)) slot = OverflowSlot;
        else
        {
            int level = 0;
            while (delta >= 1L << (Bits * (level + 1))) level++;
            int index = (int)((t.Deadline >> (Bits * level)) & (SlotsPerLevel - 1));
            slot = level * SlotsPerLevel + index;
            _occupied[level] |= 1UL << index;
        }
        t.Slot = slot;
        t.Prev = null;
        t.Next = _heads[slot];
        if (t.Next is not null) t.Next.Prev = t;
        _heads[slot] = t;
    }

    private void Unlink(T t)
    {
        int slot = t.Slot;
        if (t.Prev is not null) t.Prev.Next = t.Next;
        else _heads[slot] = t.Next;
        if (t.Next is not null) t.Next.Prev = t.Prev;
        t.Prev = t.Next = null;
        t.Slot = -1;
        if (slot < OverflowSlot && _heads[slot] is null) _occupied[slot / SlotsPerLevel] &= ~(1UL << (slot % SlotsPerLevel));
    }

    private void Cascade(int slot)
    {
        var t = _heads[slot];
        _heads[slot] = null;
        if (slot < OverflowSlot) _occupied[slot / SlotsPerLevel] &= ~(1UL << (slot % SlotsPerLevel));
        while (t is not null)
        {
            var next = t.Next;
            t.Prev = t.Next = null;
            Insert(t, cascading: true);
            t = next;
        }
    }

    private void TakeSlot(int slot, List<T> expired)
    {
        var t = _heads[slot];
        if (t is null) return;
        _heads[slot] = null;
        if (slot < OverflowSlot) _occupied[slot / SlotsPerLevel] &= ~(1UL << (slot % SlotsPerLevel));
        while (t is not null)
        {
            var next = t.Next;
            t.Prev = t.Next = null;
            t.Slot = -1;
            Count--;
            expired.Add(t);
            t = next;
        }
    }
}
