using System.Threading.Tasks.Sources;

namespace Synack.Stack;

/// <summary>
/// One wait on a socket's readiness, held in the socket's list until the stack's loop finds the socket
/// ready (or the wait is cancelled, or the socket closes).
/// </summary>
internal abstract class SocketWait
{
    /// <summary>What the waiter waits for: any of these.</summary>
    public SocketReadiness Mask;

    /// <summary>Completed or cancelled: no longer worth waking.</summary>
    public abstract bool IsDone { get; }

    /// <summary>Completes the wait, where <paramref name="socket"/>'s loop says (on the stack's loop, under its lock).</summary>
    public abstract void Wake(TcpSocket socket);
}

/// <summary>A wait handed out as a <see cref="Task"/>: one object per wait, for the public <see cref="TcpSocket.WaitAsync"/>.</summary>
internal sealed class TaskSocketWait : SocketWait
{
    public readonly TaskCompletionSource Done = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public override bool IsDone => Done.Task.IsCompleted;

    public override void Wake(TcpSocket socket) => StackCalls.Wake(socket, Done);
}

/// <summary>
/// A wait an async wrapper reuses for every wait of one kind (a connection's reads, or its writes): a
/// keep-alive connection waits once per request, and a <see cref="TaskCompletionSource"/>, its task, a
/// cancellation registration and a wake-up delegate each time were most of what a request allocated
/// inside the stack. One wait at a time; a registration is undone when the wait ends (a long-lived
/// token, such as a transport's, would otherwise collect one per wait for the connection's lifetime).
/// The wrapper's call object derives from it, so a connection that waits holds one object for both.
/// </summary>
internal abstract class ReusableSocketWait : SocketWait, IValueTaskSource, IValueTaskSource<int>
{
    private const int Idle = 0, Waiting = 1, Finished = 2;
    private static readonly Action<ReusableSocketWait> CompleteWait = static w => w.Finish(cancelled: false);
    private static readonly Action<object?> CompleteWaitHere = static w => ((ReusableSocketWait)w!).Finish(cancelled: false, here: true);
    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private CancellationToken _token;
    private int _state;

    public override bool IsDone => Volatile.Read(ref _state) != Waiting;

    /// <summary>Starts a wait (the socket's list then holds it); the caller awaits <see cref="Ready"/> once.</summary>
    public void Start(SocketReadiness mask, CancellationToken cancellationToken)
    {
        Mask = mask;
        _token = cancellationToken;
        Volatile.Write(ref _state, Waiting);
        if (cancellationToken.CanBeCanceled)
            _registration = cancellationToken.UnsafeRegister(static s => ((ReusableSocketWait)s!).Finish(cancelled: true), this);
    }

    /// <summary>The wait started last.</summary>
    public ValueTask Ready => new(this, _core.Version);

    /// <summary>The wait started last, as a read's result (0).</summary>
    public ValueTask<int> ReadyAsZero => new(this, _core.Version);

    /// <summary>
    /// Where a live loop's wake-up runs the waiter, when its owner says (a transport's queue that drains
    /// the wake-ups of many connections in one thread-pool work item, as Kestrel's socket transport runs
    /// its socket completions): the waiter's continuation then runs right there, in the queue's turn.
    /// Null: the thread pool, a work item each.
    /// </summary>
    protected virtual System.IO.Pipelines.PipeScheduler? WakeScheduler => null;

    public override void Wake(TcpSocket socket)
    {
        // Only a live loop: a simulation orders its wake-ups itself, and a run must repeat.
        if (WakeScheduler is { } scheduler && socket.Stack.Loop is StackThread) scheduler.Schedule(CompleteWaitHere, this);
        else StackCalls.Wake(socket, CompleteWait, this);
    }

    private void Finish(bool cancelled, bool here = false)
    {
        if (Interlocked.CompareExchange(ref _state, Finished, Waiting) != Waiting) return;
        // Off the stack's lock in a scheduler's turn, the continuation may run on this thread; anywhere
        // else (under the lock, in a cancellation callback) it goes to the thread pool.
        _core.RunContinuationsAsynchronously = !here;
        if (cancelled) _core.SetException(new OperationCanceledException(_token));
        else _core.SetResult(0);
    }

    /// <summary>Called once the waiter has taken the result (a call object goes back to its owner here).</summary>
    protected virtual void Consumed() { }

    public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

    public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);

    void IValueTaskSource.GetResult(short token) => GetResult(token);

    public int GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            _registration.Dispose(); // waits for a cancellation callback that is running, so the reset below is not raced
            _registration = default;
            _token = default;
            _core.Reset();
            Volatile.Write(ref _state, Idle);
            Consumed();
        }
    }
}
