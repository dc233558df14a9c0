namespace Synack.Analysis;

/// <summary>What one endpoint is inferred to be in after a packet. A capture cannot see CLOSE calls, so these are marked inferred.</summary>
public enum InferredState
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
