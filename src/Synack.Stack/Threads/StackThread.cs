using System.Collections.Concurrent;

namespace Synack.Stack;

/// <summary>
/// A stack with a real clock and a thread of its own for its timers: the loop for a TUN device or any
/// live link. Time comes from a <see cref="TimeProvider"/> (nothing in the stack reads a clock).
/// </summary>
/// <remarks>
/// <para>
/// The stack is guarded by one lock, and work runs on whichever thread brings it, as the kernel runs
/// a system call in the caller's context: a socket call from the thread pool takes the lock and runs
/// there (it used to be handed to the loop's thread and waited for, two thread switches a call), and
/// a packet from a device or another stack in this process is taken at once when the lock is free.
/// When it is held, the work is queued and the holder runs it before it lets go — Linux's socket
/// backlog, processed at <c>release_sock</c> — or the loop's thread does, woken for it. So two stacks
/// joined by a <see cref="ThreadLink"/> finish a handshake inside the <c>connect</c> call, with no
/// thread switch, as two sockets on the kernel's loopback do.
/// </para>
/// <para>
/// No thread ever blocks on this lock while it holds another stack's: nested work takes the other lock
/// only if it is free and queues otherwise, so stacks that hand each other packets cannot deadlock.
/// Application continuations run on the thread pool, never under the lock. The loop's thread sleeps
/// until the next timer or queued work, and is woken when a call elsewhere brings a timer forward.
/// </para>
/// </remarks>
public sealed class StackThread : IStackLoop, IDisposable
{
    // Queued work a holder runs before letting go; the rest is left to the loop, so a device that keeps
    // the queue full cannot keep an application's call from returning.
    private const int DrainPerRelease = 64;

    private readonly Lock _gate = new();
    private readonly ConcurrentQueue<Action> _work = new();
    // Blocks without spinning first: on a small machine a spinning loop takes the core the device's
    // reader or the application needs (a profile of a TUN download found 14 % of the CPU there).
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private readonly Thread _thread;
    private readonly long _start;
    private volatile bool _stopping;
    private int _sleeping; // 1 while the loop's thread waits; whoever clears it sets _wake
    private long _plannedWakeTicks = long.MaxValue; // when the sleeping loop means to wake (Now ticks)

    [ThreadStatic] private static int t_locksHeld; // stack locks this thread holds, over all stacks

    /// <summary>Runs <paramref name="stack"/> on a thread of its own, on <paramref name="time"/> (the system clock by default).</summary>
    public StackThread(NetworkStack stack, TimeProvider? time = null)
    {
        Stack = stack;
        Time = time ?? TimeProvider.System;
        _start = Time.GetTimestamp();
        stack.Loop = this;
        _thread = new Thread(Run) { IsBackground = true, Name = $"synack {stack.Name}" };
        _thread.Start();
    }

    /// <summary>The stack this thread runs.</summary>
    public NetworkStack Stack { get; }
    /// <summary>The clock the stack runs on.</summary>
    public TimeProvider Time { get; }
    /// <summary>Time since the thread started, by <see cref="Time"/>.</summary>
    public TimeSpan Now => Time.GetElapsedTime(_start);
    /// <summary>True: calls from any thread are taken.</summary>
    public bool ServesOtherThreads => true;

    /// <summary>Runs <paramref name="action"/> with the stack to itself, on this thread, and returns when it is done (at once when already there).</summary>
    public void Invoke(Action action)
    {
        if (_gate.IsHeldByCurrentThread)
        {
            action();
            return;
        }
        if (_stopping) throw new ObjectDisposedException(nameof(StackThread));
        if (t_locksHeld > 0)
        {
            // Holding another stack's lock (an observer calling across, say): never block on this one
            // from here. The loop's thread runs it; it needs no lock this thread holds.
            InvokeOnLoop(action);
            return;
        }
        _gate.Enter();
        t_locksHeld++;
        try
        {
            RunQueued(DrainPerRelease); // what arrived first goes first, as it would have on the loop
            action();
        }
        finally
        {
            Release();
        }
    }

    void IStackLoop.Post(Action action, long order) => Post(action);

    void IStackLoop.Invoke<TState>(Action<TState> action, TState state, long order)
    {
        if (_gate.IsHeldByCurrentThread)
        {
            action(state);
            return;
        }
        if (t_locksHeld > 0 || _stopping)
        {
            InvokeCapturing(action, state); // the rare paths (across stacks, stopping) as Invoke takes them
            return;
        }
        _gate.Enter();
        t_locksHeld++;
        try
        {
            RunQueued(DrainPerRelease);
            action(state);
        }
        finally
        {
            Release();
        }
    }

    // A method of its own: a lambda capturing parameters makes its closure on entry to the method that
    // holds it, so in the generic Invoke above it would cost every call.
    private void InvokeCapturing<TState>(Action<TState> action, TState state) => Invoke(() => action(state));

    // Wakes at once, as the interface's Wake(Action) does here: no closure for it.
    void IStackLoop.Wake<TState>(Action<TState> wake, TState state, long order) => wake(state);

    /// <summary>Hands over work nobody waits for (a packet from a device, say): run now if the stack is free, otherwise by whoever holds it.</summary>
    public void Post(Action action)
    {
        if (_stopping) return;
        _work.Enqueue(action); // behind what is already waiting: first come, first run
        if (_gate.IsHeldByCurrentThread) return; // this thread runs it before it lets go
        if (!_gate.TryEnter()) return; // the holder sees it when it lets go (Release looks again after)
        t_locksHeld++;
        Release();
    }

    private void InvokeOnLoop(Action action)
    {
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        _work.Enqueue(() =>
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                done.Set();
            }
        });
        WakeLoop();
        done.Wait();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>
    /// Runs what queued up meanwhile, sends what the sink held back, and lets go; then looks at the queue
    /// once more, since work may have come after the last look by a thread that found the lock held
    /// and left it to us. Too much for one caller goes to the loop's thread.
    /// </summary>
    private void Release()
    {
        LetGo();
        for (int rounds = 0; ; rounds++)
        {
            // Full fences on both sides (the queue's and this one): either the poster's TryEnter saw the
            // lock free, or this look sees its work.
            Interlocked.MemoryBarrier();
            if (_work.IsEmpty) return;
            if (rounds == 2)
            {
                WakeLoop();
                return;
            }
            if (!_gate.TryEnter()) return; // another holder now, which will look in turn
            t_locksHeld++;
            LetGo();
        }
    }

    private void LetGo()
    {
        try
        {
            for (int budget = DrainPerRelease; ;)
            {
                budget -= RunQueued(budget);
                Flush(); // may hand packets to another stack, whose answers queue here
                if (budget <= 0 || _work.IsEmpty) break;
            }
            bool more = !_work.IsEmpty;
            // Woken only for a timer that comes due a tick (the wheel's millisecond) before the loop
            // meant to wake: a probe timer re-armed on every ACK must not wake it every time.
            bool sooner = Stack.NextWakeup is TimeSpan w && w.Ticks < Volatile.Read(ref _plannedWakeTicks) - TimeSpan.TicksPerMillisecond;
            if (more || sooner) WakeLoop();
        }
        finally
        {
            t_locksHeld--;
            _gate.Exit();
        }
        WriteQueued();
    }

    /// <summary>What the sink queued under the lock goes to its device now, outside it.</summary>
    private void WriteQueued() => ToSink(writeQueued: true);

    private int RunQueued(int most)
    {
        int ran = 0;
        while (ran < most && _work.TryDequeue(out var next))
        {
            RunSafely(next);
            ran++;
        }
        return ran;
    }

    private void WakeLoop()
    {
        if (Interlocked.Exchange(ref _sleeping, 0) == 1) _wake.Set();
    }

    private void Run()
    {
        while (!_stopping)
        {
            if (!_gate.TryEnter())
            {
                // Someone holds the stack (a device's reader under a flood, say) and runs what is queued
                // before letting go: the timers go to it as queued work rather than this thread spinning
                // for the lock (a SYN flood's profile found 18 % of the CPU yielding here). Queued before
                // the second look, as Post does, so either that look gets the lock or the holder's last
                // look finds the timers; this thread comes back in 10 ms, not once a millisecond.
                if (Interlocked.Exchange(ref _timersQueued, 1) == 0) _work.Enqueue(_advanceTimers ??= AdvanceTimers);
                Interlocked.MemoryBarrier();
                if (!_gate.TryEnter())
                {
                    _wake.Wait(10);
                    _wake.Reset();
                    continue;
                }
            }
            t_locksHeld++;
            TimeSpan now;
            TimeSpan? next;
            try
            {
                now = Now;
                try
                {
                    Stack.Advance(now);
                }
                catch (Exception e)
                {
                    RecordFault(e);
                }
                RunQueued(int.MaxValue);
                Flush();
                next = Stack.NextWakeup;
                Volatile.Write(ref _plannedWakeTicks, next?.Ticks ?? long.MaxValue);
                Volatile.Write(ref _sleeping, 1);
            }
            finally
            {
                t_locksHeld--;
                _gate.Exit();
            }
            WriteQueued();
            Interlocked.MemoryBarrier(); // see Release
            if (!_work.IsEmpty)
            {
                // Queued between the drain and the flag: take it now rather than sleep on it.
                Volatile.Write(ref _sleeping, 0);
                _wake.Reset();
                continue;
            }
            int waitMs = next is TimeSpan w ? (int)Math.Clamp(Math.Ceiling((w - now).TotalMilliseconds), 0, 1000) : 1000;
            _wake.Wait(waitMs);
            // A Set after this Reset is not lost: it needs _sleeping = 1, set again only under the lock.
            Volatile.Write(ref _sleeping, 0);
            _wake.Reset();
        }
    }

    private int _timersQueued; // 1 while an AdvanceTimers waits in the queue
    private Action? _advanceTimers;

    private void AdvanceTimers()
    {
        Volatile.Write(ref _timersQueued, 0);
        Stack.Advance(Now);
    }

    /// <summary>Out of work: what a batching sink held back goes now.</summary>
    private void Flush() => ToSink(writeQueued: false);

    private void ToSink(bool writeQueued)
    {
        if (Stack.Output is not IBatchingPacketSink sink) return;
        try
        {
            if (writeQueued) sink.WriteQueued();
            else sink.Flush();
        }
        catch (Exception e)
        {
            RecordFault(e);
        }
    }

    /// <summary>Posted work that threw (a bug, or an observer that failed): counted, and the loop goes on.</summary>
    public long Faults => Interlocked.Read(ref _faults);
    /// <summary>The last exception posted work threw, or null.</summary>
    public Exception? LastFault { get; private set; }
    private long _faults;

    private void RunSafely(Action action)
    {
        try
        {
            action();
        }
        catch (Exception e)
        {
            RecordFault(e);
        }
    }

    // One failing packet, timer or observer must not take the stack, and every connection on it, down.
    private void RecordFault(Exception e)
    {
        LastFault = e;
        Interlocked.Increment(ref _faults);
    }

    /// <summary>Stops the thread; connections are left as they are (close them first for a clean end).</summary>
    public void Dispose()
    {
        if (_stopping) return;
        _stopping = true;
        _wake.Set();
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
    }
}
