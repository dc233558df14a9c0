using System.Collections.Concurrent;

namespace Synack.Stack;

/// <summary>
/// A stack on its own thread with a real clock: the loop for a TUN device or any live link. Time comes
/// from a <see cref="TimeProvider"/> (nothing in the stack reads a clock); work from other threads
/// (socket calls, packets from the device) is posted to the loop and runs in order; timers fire when
/// the stack's wheel says. Application continuations run on the thread pool, never on the loop.
/// </summary>
public sealed class StackThread : IStackLoop, IDisposable
{
    private readonly BlockingCollection<Action> _work = new();
    private readonly Thread _thread;
    private readonly long _start;
    private volatile bool _stopping;

    public StackThread(NetworkStack stack, TimeProvider? time = null)
    {
        Stack = stack;
        Time = time ?? TimeProvider.System;
        _start = Time.GetTimestamp();
        stack.Loop = this;
        _thread = new Thread(Run) { IsBackground = true, Name = $"synack {stack.Name}" };
        _thread.Start();
    }

    public NetworkStack Stack { get; }
    public TimeProvider Time { get; }
    public TimeSpan Now => Time.GetElapsedTime(_start);
    public bool ServesOtherThreads => true;

    /// <summary>Runs <paramref name="action"/> on the loop and waits for it (at once when already there).</summary>
    public void Invoke(Action action)
    {
        if (Thread.CurrentThread == _thread)
        {
            action();
            return;
        }
        if (_stopping) throw new ObjectDisposedException(nameof(StackThread));
        using var done = new ManualResetEventSlim();
        Exception? error = null;
        _work.Add(() =>
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
        done.Wait();
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
    }

    /// <summary>Queues work without waiting (a packet from the device, say).</summary>
    public void Post(Action action)
    {
        if (_stopping) return;
        try
        {
            _work.Add(action);
        }
        catch (ObjectDisposedException)
        {
            // Stopped between the check and the add: a packet from a device thread is dropped, as it would be a moment later.
        }
    }

    private void Run()
    {
        while (!_stopping)
        {
            var now = Now;
            try
            {
                Stack.Advance(now);
            }
            catch (Exception e)
            {
                RecordFault(e);
            }
            Flush();
            var wake = Stack.NextWakeup;
            int waitMs = wake is TimeSpan w ? (int)Math.Clamp(Math.Ceiling((w - now).TotalMilliseconds), 0, 1000) : 1000;
            if (_work.TryTake(out var action, waitMs))
            {
                RunSafely(action);
                while (_work.TryTake(out action)) RunSafely(action);
                Flush();
            }
        }
    }

    /// <summary>Out of work: what a batching sink held back goes now.</summary>
    private void Flush()
    {
        if (Stack.Output is not IBatchingPacketSink sink) return;
        try
        {
            sink.Flush();
        }
        catch (Exception e)
        {
            RecordFault(e);
        }
    }

    /// <summary>Posted work that threw (a bug, or an observer that failed): counted, and the loop goes on.</summary>
    public long Faults => Interlocked.Read(ref _faults);
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

    public void Dispose()
    {
        _stopping = true;
        _work.Add(() => { });
        if (Thread.CurrentThread != _thread) _thread.Join(TimeSpan.FromSeconds(5));
        _work.Dispose();
    }
}
