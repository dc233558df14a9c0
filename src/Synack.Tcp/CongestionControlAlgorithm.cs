namespace Synack.Tcp;

/// <summary>Which congestion controller a connection's sender uses.</summary>
public enum CongestionControlAlgorithm
{
    /// <summary>RFC 5681 with RFC 6582's partial ACKs: halve on loss, one segment per RTT in avoidance.</summary>
    NewReno,
    /// <summary>RFC 9438 CUBIC, Linux's default: back off to 0.7, regrow on a cubic curve of the time since the loss.</summary>
    Cubic,
}
