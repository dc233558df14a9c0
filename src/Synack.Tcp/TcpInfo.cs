namespace Synack.Tcp;

/// <summary>
/// A connection's state and counters at one moment, in the units of Linux's <c>struct tcp_info</c>
/// (segments for windows and queues, microseconds for round trips and timers, milliseconds for the
/// "since" fields) so that tools and tests written against Linux read it the same way. Answered in
/// every state, also before the handshake and after the connection ended.
/// </summary>
public readonly record struct TcpInfo
{
    /// <summary>The RFC 9293 state (<c>tcpi_state</c>).</summary>
    public TcpState State { get; init; }
    /// <summary>The sender's congestion state (<c>tcpi_ca_state</c>).</summary>
    public CongestionState CongestionState { get; init; }
    /// <summary>Retransmission timeouts in a row without progress (<c>tcpi_retransmits</c>).</summary>
    public int Retransmits { get; init; }
    /// <summary>Zero-window or keep-alive probes sent and not answered.</summary>
    public int Probes { get; init; }
    /// <summary>How many times the retransmission timeout has been doubled.</summary>
    public int Backoff { get; init; }
    /// <summary>Both SYNs carried timestamps.</summary>
    public bool TimestampsNegotiated { get; init; }
    /// <summary>Both SYNs carried SACK-permitted.</summary>
    public bool SackNegotiated { get; init; }
    /// <summary>Both SYNs carried window scale.</summary>
    public bool WindowScaleNegotiated { get; init; }
    /// <summary>ECN was negotiated (RFC 3168).</summary>
    public bool EcnNegotiated { get; init; }
    /// <summary>The shift applied to the peer's window (<c>tcpi_snd_wscale</c>).</summary>
    public byte SendWindowScale { get; init; }
    /// <summary>The shift applied to ours (<c>tcpi_rcv_wscale</c>).</summary>
    public byte ReceiveWindowScale { get; init; }
    /// <summary>The retransmission timeout (<c>tcpi_rto</c>).</summary>
    public long RtoMicroseconds { get; init; }
    /// <summary>The send MSS (<c>tcpi_snd_mss</c>).</summary>
    public int SendMss { get; init; }
    /// <summary>The largest segment the peer has sent (at least 536 until one larger arrives).</summary>
    public int ReceiveMss { get; init; }
    /// <summary>The MSS we announced.</summary>
    public int AdvertisedMss { get; init; }
    /// <summary>Segments sent and not yet acknowledged.</summary>
    public int Unacked { get; init; }
    /// <summary>Segments the peer has SACKed above SND.UNA.</summary>
    public int Sacked { get; init; }
    /// <summary>Segments taken as lost and not yet resent.</summary>
    public int Lost { get; init; }
    /// <summary>Resent segments not yet acknowledged.</summary>
    public int Retrans { get; init; }
    /// <summary>Since data was last sent (<c>tcpi_last_data_sent</c>).</summary>
    public long LastDataSentMilliseconds { get; init; }
    /// <summary>Since data was last received (<c>tcpi_last_data_recv</c>).</summary>
    public long LastDataReceivedMilliseconds { get; init; }
    /// <summary>Since an ACK was last received (<c>tcpi_last_ack_recv</c>).</summary>
    public long LastAckReceivedMilliseconds { get; init; }
    /// <summary>The smoothed round-trip time (<c>tcpi_rtt</c>).</summary>
    public long RttMicroseconds { get; init; }
    /// <summary>The round-trip time's variation (<c>tcpi_rttvar</c>).</summary>
    public long RttVarianceMicroseconds { get; init; }
    /// <summary>The smallest round-trip time seen (<c>tcpi_min_rtt</c>).</summary>
    public long MinRttMicroseconds { get; init; }
    /// <summary>The slow-start threshold in segments; <see cref="InfiniteSsthresh"/> before the first loss.</summary>
    public long SendSsthresh { get; init; }
    /// <summary>The congestion window in segments.</summary>
    public long SendCwnd { get; init; }
    /// <summary>Duplicate ACKs that mean a loss (the reordering the sender allows for).</summary>
    public int Reordering { get; init; }
    /// <summary>How many times reordering was seen.</summary>
    public int ReorderingSeen { get; init; }
    /// <summary>Segments retransmitted over the connection's life (<c>tcpi_total_retrans</c>).</summary>
    public long TotalRetrans { get; init; }
    /// <summary>Bytes of ours the peer has acknowledged (<c>tcpi_bytes_acked</c>).</summary>
    public long BytesAcked { get; init; }
    /// <summary>Bytes received in order (<c>tcpi_bytes_received</c>).</summary>
    public long BytesReceived { get; init; }
    /// <summary>Bytes written by the application and not yet sent.</summary>
    public int NotSentBytes { get; init; }
    /// <summary>Microseconds with data in flight or waiting to be sent.</summary>
    public long BusyMicroseconds { get; init; }
    /// <summary>Microseconds of that the peer's window held the sender back.</summary>
    public long ReceiveWindowLimitedMicroseconds { get; init; }
    /// <summary>Microseconds of that a full send buffer held the application back.</summary>
    public long SendBufferLimitedMicroseconds { get; init; }

    /// <summary>What Linux reports as the slow-start threshold before any loss.</summary>
    public const long InfiniteSsthresh = 0x7fffffff;
}
