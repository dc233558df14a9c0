namespace Synack.Scenarios.Sweep;

/// <summary>What one connection of a sweep's run does: the kinds of connection of docs/scenarios.md (S10), and the ways they end.</summary>
public enum SweepWorkload
{
    /// <summary>A request, a response, a close: a short connection.</summary>
    Short,
    /// <summary>Bulk both ways at once, then a close: a long one.</summary>
    Long,
    /// <summary>The client shuts its side at once; the server goes on sending in CLOSE-WAIT.</summary>
    HalfClose,
    /// <summary>Both ends connect to each other at the same moment (SYN crosses SYN).</summary>
    SimultaneousOpen,
    /// <summary>Both ends close at the same moment (FIN crosses FIN: CLOSING).</summary>
    SimultaneousClose,
    /// <summary>One end resets the connection in the middle of a transfer.</summary>
    Abort,
    /// <summary>Keep-alive on, idle for a while, then a request and a response.</summary>
    IdleKeepAlive,
}
