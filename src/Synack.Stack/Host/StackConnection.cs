using Synack.Tcp;

namespace Synack.Stack;

/// <summary>One entry of the connection table: the TCB and what the stack keeps beside it.</summary>
internal sealed class StackConnection : WheelTimer<StackConnection>
{
    public Connection Connection { get; set; } = null!;
    /// <summary>The listener that spawned it, as long as it is in the table (it counts against the listener's limit).</summary>
    public Listener? Listener { get; set; }
    /// <summary>Counted in its listener's SYN queue (SYN-RECEIVED, not yet handed to the accept queue).</summary>
    public bool InSynQueue { get; set; }
    /// <summary>Closed by its application and still draining: counted against StackOptions.MaxOrphans.</summary>
    public bool Orphan { get; set; }
    /// <summary>Out of the connection table: closed, or replaced by a TIME-WAIT entry. Nothing more to do for it.</summary>
    public bool Detached { get; set; }
    public IConnectionObserver? Observer { get; set; }
    /// <summary>The next connection in this one's chain of the <see cref="ConnectionTable"/>.</summary>
    internal StackConnection? NextInBucket;
}
