namespace Synack.Tcp;

/// <summary>What a connection tells its user.</summary>
public enum ConnectionEvent
{
    /// <summary>The handshake completed: ESTABLISHED.</summary>
    Connected,
    /// <summary>New in-order data can be received.</summary>
    DataReadable,
    /// <summary>The peer's FIN arrived: after the buffered data, reads return end of stream.</summary>
    PeerClosed,
    /// <summary>Send buffer space was freed by an acknowledgment.</summary>
    SendSpaceAvailable,
    /// <summary>The connection ended in error; the error says why (refused, reset, timed out, aborted).</summary>
    Failed,
    /// <summary>A passive half-open connection was dropped (RST from the peer, or SYN-ACK tries ran out) and went back to LISTEN.</summary>
    HalfOpenDropped,
    /// <summary>The connection reached CLOSED normally; the TCB can be deleted.</summary>
    Closed,
}
