using Synack.Tcp;

namespace Synack.Stack;

/// <summary>Something in the stack with a timer on the wheel.</summary>
internal abstract class TimedEntry
{
    protected TimedEntry() => Timer = new WheelTimer<TimedEntry>(this);

    public WheelTimer<TimedEntry> Timer { get; }

    public abstract void Expire(TimeSpan now);
}

/// <summary>Told what happens to a connection; the socket API implements it.</summary>
internal interface IConnectionObserver
{
    void OnEvent(ConnectionEvent e, TcpError error);

    /// <summary>Called while the connection processes an input: only record, never call back in.</summary>
    void OnStateChanged(TcpState from, TcpState to);

    /// <summary>An input to the connection is processed and the stack's bookkeeping done: readiness may have changed.</summary>
    void Settled();
}

/// <summary>One entry of the connection table: the TCB and what the stack keeps beside it.</summary>
internal sealed class StackConnection(NetworkStack stack) : TimedEntry
{
    public Connection Connection { get; set; } = null!;
    /// <summary>The listener that spawned it, while it counts in that listener's SYN queue.</summary>
    public Listener? Listener { get; set; }
    public bool InAcceptQueue { get; set; }
    /// <summary>Out of the connection table: closed, or replaced by a TIME-WAIT entry. Nothing more to do for it.</summary>
    public bool Detached { get; set; }
    public IConnectionObserver? Observer { get; set; }

    public override void Expire(TimeSpan now) => stack.FireConnectionTimers(this, now);
}

/// <summary>A passive open: a port (and maybe an address) with a SYN queue and an accept queue.</summary>
internal sealed class Listener
{
    public required ushort Port { get; init; }
    public Synack.Wire.IpAddr? Address { get; init; }
    public required int Backlog { get; init; }
    public required ConnectionOptions Options { get; init; }
    /// <summary>Connections in SYN-RECEIVED (the SYN queue).</summary>
    public int HalfOpen { get; set; }
    /// <summary>Established connections the application has not accepted yet.</summary>
    public Queue<StackConnection> AcceptQueue { get; } = new();
    public Action? Ready { get; set; }
    public bool Closed { get; set; }
}
