using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// Every choice the RFCs leave open, as configuration. The defaults follow Linux, the peer users know
/// (see docs/design.md); a profile for another stack is a different instance, not a code path.
/// </summary>
public sealed record ConnectionOptions
{
    public static ConnectionOptions Default { get; } = new();

    /// <summary>The MSS we announce in our SYN (RFC 9293 3.7.1).</summary>
    public ushort Mss { get; init; } = 1460;
    /// <summary>The send MSS assumed when the peer's SYN carries no MSS option (RFC 9293: 536 for IPv4).</summary>
    public ushort DefaultPeerMss { get; init; } = 536;
    public TcpOptionLayout SynOptionLayout { get; init; } = TcpOptionLayout.Linux;
    public bool WindowScaling { get; init; } = true;
    /// <summary>Our window scale shift; null computes it from the receive buffer.</summary>
    public byte? WindowScale { get; init; }
    public bool Sack { get; init; } = true;
    public bool Timestamps { get; init; } = true;

    public int SendBufferSize { get; init; } = 256 * 1024;
    public int ReceiveBufferSize { get; init; } = 256 * 1024;

    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>SYN retransmissions before connect fails (Linux tcp_syn_retries).</summary>
    public int SynRetries { get; init; } = 6;
    /// <summary>SYN-ACK retransmissions before a half-open connection is dropped (Linux tcp_synack_retries).</summary>
    public int SynAckRetries { get; init; } = 5;
    /// <summary>Data retransmissions before the connection fails (RFC 9293 R2, Linux tcp_retries2).</summary>
    public int DataRetries { get; init; } = 15;

    /// <summary>Maximum segment lifetime; TIME-WAIT lasts twice this (Linux: 60 s in all).</summary>
    public TimeSpan Msl { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>How long a connection the application has closed may sit in FIN-WAIT-2 (Linux tcp_fin_timeout).</summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromSeconds(60);

    public bool KeepAlive { get; init; }
    public TimeSpan KeepAliveIdle { get; init; } = TimeSpan.FromHours(2);
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);
    public int KeepAliveCount { get; init; } = 9;

    public bool DelayedAck { get; init; } = true;
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(40);
    /// <summary>
    /// Delay the ACK of a FIN like the ACK of data. If the application closes before it fires, the ACK
    /// rides on our FIN: the "only three segments" close of the seed's captures.
    /// </summary>
    public bool DelayAckOfFin { get; init; } = true;
    /// <summary>Nagle's algorithm (RFC 896, RFC 1122 4.2.3.4); false is TCP_NODELAY.</summary>
    public bool Nagle { get; init; } = true;
    /// <summary>Initial congestion window in segments (RFC 6928).</summary>
    public int InitialWindowSegments { get; init; } = 10;

    /// <summary>RFC 5961 handling of RST and SYN (challenge ACKs). False is the RFC 793 behaviour.</summary>
    public bool Rfc5961 { get; init; } = true;
    /// <summary>Challenge ACKs allowed per second (RFC 5961 section 7).</summary>
    public int ChallengeAckLimit { get; init; } = 100;
    /// <summary>RFC 1337: ignore RST in TIME-WAIT. RFC 9293 (and Linux by default) closes instead.</summary>
    public bool IgnoreRstInTimeWait { get; init; }

    internal byte EffectiveWindowScale
    {
        get
        {
            if (WindowScale is byte ws) return Math.Min(ws, (byte)14);
            byte shift = 0;
            while (shift < 14 && (65535L << shift) < ReceiveBufferSize) shift++;
            return shift;
        }
    }
}
