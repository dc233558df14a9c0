namespace Synack.Tcp;

/// <summary>The timers of one connection.</summary>
public enum TcpTimer
{
    /// <summary>The retransmission timer (RFC 6298).</summary>
    Retransmission,
    /// <summary>The delayed-ACK timer.</summary>
    DelayedAck,
    /// <summary>The persist timer: zero-window probes.</summary>
    Persist,
    /// <summary>The keep-alive timer.</summary>
    KeepAlive,
    /// <summary>The 2 MSL timer of TIME-WAIT.</summary>
    TimeWait,
    /// <summary>The FIN-WAIT-2 timer of a connection its application has closed.</summary>
    FinWait2,
    /// <summary>RFC 8985's probe timeout: a tail that went unanswered is probed before the retransmission timer.</summary>
    TailLossProbe,
    /// <summary>RFC 8985's reordering timer: segments sent before one delivered are lost when it fires.</summary>
    ReorderWindow,
}
