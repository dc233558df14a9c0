namespace Synack.Stack;

/// <summary>Why the stack dropped an incoming packet.</summary>
public enum DropReason
{
    /// <summary>Not a packet that could be read (see <see cref="StackStatistics.Malformed"/>).</summary>
    Malformed,
    /// <summary>The TCP checksum does not verify.</summary>
    BadChecksum,
    /// <summary>Addressed to an address the stack does not have.</summary>
    NotForThisHost,
    /// <summary>Not TCP.</summary>
    NotTcp,
    /// <summary>A SYN to a listener whose queue is full (and no cookie sent).</summary>
    ListenQueueFull,
    /// <summary>No connection or listener for it (answered with RST where the RFC says so).</summary>
    NoConnection,
    /// <summary>Taken by a TIME-WAIT entry without an answer.</summary>
    TimeWait,
    /// <summary>A SYN (or cookie ACK) beyond the stack's or the listener's connection limit.</summary>
    ConnectionLimit,
}
