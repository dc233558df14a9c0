namespace Synack.Stack;

/// <summary>The thread a stack lives on. The socket API runs every stack call through it.</summary>
public interface IStackLoop
{
    TimeSpan Now { get; }
    /// <summary>The clock the stack runs on (virtual in a simulation).</summary>
    TimeProvider Time { get; }
    /// <summary>Runs <paramref name="action"/> on the loop (at once when already there).</summary>
    void Invoke(Action action);
}
