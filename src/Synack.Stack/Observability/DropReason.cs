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
}
