namespace Synack.Scenarios;

/// <summary>What a trace entry records.</summary>
public enum TraceKind
{
    /// <summary>A segment left an endpoint.</summary>
    Sent,
    /// <summary>A segment was delivered to an endpoint and processed.</summary>
    Delivered,
    /// <summary>The link dropped a segment.</summary>
    Dropped,
    /// <summary>The link made a second copy of a segment.</summary>
    Duplicated,
    /// <summary>A segment failed to parse at the receiver (bad checksum, malformed).</summary>
    Rejected,
    /// <summary>An endpoint changed state.</summary>
    StateChanged,
    /// <summary>A user event (data readable, connected, closed, failed).</summary>
    Event,
    /// <summary>A timer fired.</summary>
    TimerFired,
    /// <summary>The application made a call (or the run noted something).</summary>
    UserCall,
}
