namespace Synack.Stack;

/// <summary>Why the stack dropped an incoming packet.</summary>
public enum DropReason
{
    Malformed,
    BadChecksum,
    NotForThisHost,
    NotTcp,
    ListenQueueFull,
    NoConnection,
    TimeWait,
    /// <summary>A SYN (or cookie ACK) beyond the stack's or the listener's connection limit.</summary>
    ConnectionLimit,
}
