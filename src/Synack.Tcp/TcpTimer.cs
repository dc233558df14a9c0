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
}
