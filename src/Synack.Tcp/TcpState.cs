namespace Synack.Tcp;

/// <summary>The eleven states of RFC 9293 section 3.3.2.</summary>
public enum TcpState
{
    /// <summary>No connection.</summary>
    Closed,
    /// <summary>Waiting for a connection request from any remote TCP.</summary>
    Listen,
    /// <summary>Our SYN is sent; waiting for a matching SYN (and its ACK).</summary>
    SynSent,
    /// <summary>A SYN received and our SYN sent; waiting for the ACK of our SYN.</summary>
    SynReceived,
    /// <summary>Open: data flows both ways.</summary>
    Established,
    /// <summary>We sent FIN; waiting for its ACK or the peer's FIN.</summary>
    FinWait1,
    /// <summary>Our FIN is acknowledged; waiting for the peer's FIN.</summary>
    FinWait2,
    /// <summary>The peer sent FIN; waiting for our application to close.</summary>
    CloseWait,
    /// <summary>Both sent FIN at once; waiting for the ACK of ours.</summary>
    Closing,
    /// <summary>The peer closed first and we sent our FIN; waiting for its ACK.</summary>
    LastAck,
    /// <summary>Both FINs acknowledged; waiting 2 MSL so old duplicates die out and a lost last ACK can be resent.</summary>
    TimeWait,
}

/// <summary>The RFC's names for <see cref="TcpState"/>.</summary>
public static class TcpStateNames
{
    /// <summary>The RFC's spelling: "SYN-SENT", "FIN-WAIT-1", "TIME-WAIT".</summary>
    public static string ToRfcName(this TcpState s) => s switch
    {
        TcpState.Closed => "CLOSED",
        TcpState.Listen => "LISTEN",
        TcpState.SynSent => "SYN-SENT",
        TcpState.SynReceived => "SYN-RECEIVED",
        TcpState.Established => "ESTABLISHED",
        TcpState.FinWait1 => "FIN-WAIT-1",
        TcpState.FinWait2 => "FIN-WAIT-2",
        TcpState.CloseWait => "CLOSE-WAIT",
        TcpState.Closing => "CLOSING",
        TcpState.LastAck => "LAST-ACK",
        TcpState.TimeWait => "TIME-WAIT",
        _ => s.ToString(),
    };

    /// <summary>True in the states where the connection is synchronized (RFC 9293 3.5.3).</summary>
    public static bool IsSynchronized(this TcpState s) => s >= TcpState.Established || s == TcpState.SynReceived;
}
