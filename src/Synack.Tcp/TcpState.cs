namespace Synack.Tcp;

/// <summary>The eleven states of RFC 9293 section 3.3.2.</summary>
public enum TcpState
{
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

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
