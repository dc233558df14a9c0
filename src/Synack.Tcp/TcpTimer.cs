namespace Synack.Tcp;

/// <summary>The timers of one connection.</summary>
public enum TcpTimer
{
    Retransmission,
    DelayedAck,
    Persist,
    KeepAlive,
    TimeWait,
    FinWait2,
    /// <summary>RFC 8985's probe timeout: a tail that went unanswered is probed before the retransmission timer.</summary>
    TailLossProbe,
    /// <summary>RFC 8985's reordering timer: segments sent before one delivered are lost when it fires.</summary>
    ReorderWindow,
}
