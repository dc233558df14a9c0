namespace Synack.Scenarios;

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
    StateChanged,
    Event,
    TimerFired,
    UserCall,
}
