using System.IO.Pipelines;

namespace Synack.Stack;

/// <summary>
/// The thread a stack lives on. The socket API runs every stack call through it and names no kind of
/// loop: a real one (<see cref="StackThread"/>) or a simulation's, which takes calls that wait
/// together in the order given, so a run repeats whichever thread came first.
/// </summary>
public interface IStackLoop
{
    /// <summary>The loop's clock.</summary>
    TimeSpan Now { get; }
    /// <summary>The clock the stack runs on (virtual in a simulation).</summary>
    TimeProvider Time { get; }
    /// <summary>
    /// Code on other threads (the thread pool: Kestrel, HttpClient) may call <see cref="Invoke(Action)"/>, and
    /// the loop's clock accounts for it: a real clock, or a simulation that settles the thread pool.
    /// </summary>
    bool ServesOtherThreads { get; }
    /// <summary>Runs <paramref name="action"/> on the loop (at once when already there) and returns when it is done.</summary>
    void Invoke(Action action);

    /// <summary>
    /// A call the caller waits for. <paramref name="order"/> places it among calls waiting at the same
    /// moment (smaller first); a loop that takes calls as they come may ignore it.
    /// </summary>
    void Invoke(Action action, long order) => Invoke(action);

    /// <summary>
    /// <see cref="Invoke(Action, long)"/> with the call's state passed along: a loop that runs calls where
    /// they are made needs no closure, so a socket call allocates nothing.
    /// </summary>
    void Invoke<TState>(Action<TState> action, TState state, long order) => Invoke(() => action(state), order);

    /// <summary>Work nobody waits for (a close, a pipe's continuation): queued, never blocking the caller.</summary>
    void Post(Action action, long order);

    /// <summary>Wakes a waiter: <paramref name="wake"/> completes it, at once or at a point of the loop's choosing.</summary>
    void Wake(Action wake, long order) => wake();

    /// <summary><see cref="Wake(Action, long)"/> with the waiter passed along (no closure where the loop wakes at once).</summary>
    void Wake<TState>(Action<TState> wake, TState state, long order) => Wake(() => wake(state), order);

    /// <summary>Where work that feeds a connection's pipes runs (the thread pool, unless the loop must order it).</summary>
    PipeScheduler Scheduler(long order) => PipeScheduler.ThreadPool;
}
