namespace Synack.Stack;

/// <summary>The thread a stack lives on. The socket API runs every stack call through it.</summary>
public interface IStackLoop
{
    TimeSpan Now { get; }
    /// <summary>The clock the stack runs on (virtual in a simulation).</summary>
    TimeProvider Time { get; }
    /// <summary>
    /// Code on other threads (the thread pool: Kestrel, HttpClient) may call <see cref="Invoke"/>, and
    /// the loop's clock accounts for it: a real clock, or a simulation that settles the thread pool.
    /// </summary>
    bool ServesOtherThreads { get; }
    /// <summary>Runs <paramref name="action"/> on the loop (at once when already there).</summary>
    void Invoke(Action action);
}
