using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// Every choice the RFCs leave open, as configuration. The defaults follow Linux, the peer users know
/// (see docs/design.md); a profile for another stack is a different instance, not a code path.
/// </summary>
public sealed record ConnectionOptions
{
    /// <summary>The defaults: Linux's behaviour (see <see cref="Linux"/> for the profile the conformance suite uses).</summary>
    public static ConnectionOptions Default { get; } = new();

    /// <summary>
    /// FreeBSD's defaults, the ones its packetdrill suite assumes: SYN options mss, nop, wscale,
    /// sackOK, TS; a 64 KiB receive buffer rounded up to whole segments (65536 becomes 65700 with MSS
    /// 1460); window scale 6 (from kern.ipc.maxsockbuf = 2 MiB); 32 KiB send buffer; the FIN acked at
    /// once; a close with unread data flushes it and sends FIN; 40 ms delayed ACK; 1 s initial RTO and
    /// 30 ms minimum; SYN-ACK retries as its syncache (3).
    /// </summary>
    public static ConnectionOptions FreeBsd { get; } = new()
    {
        SynOptionLayout = TcpOptionLayout.FreeBsd,
        CongestionControl = CongestionControlAlgorithm.NewReno,
        TailLossProbe = false,
        ReceiveBufferSize = 65536,
        RoundReceiveBufferToMss = true,
        SendBufferSize = 32768,
        ReceiveBufferMax = null, // the suite's windows were matched without autotuning
        SendBufferMax = null,
        WindowScale = 6,
        DelayAckOfFin = false,
        ResetOnCloseWithUnreadData = false,
        ResetDataAfterReceiveShutdown = false,
        AdvertiseFreeSpace = true,
        RepeatFinUntilAcked = true,
        AcceptWithinBufferSpace = true,
        ProcessAckOfOldSegments = true,
        AckEverySecondSegment = true,
        NagleMinshall = false,
        DropSegmentsWithoutTimestamps = true,
        TimeWaitDropsSegmentsWithoutAck = true,
        IgnoreRstInTimeWait = true,
        RtoSlop = TimeSpan.FromMilliseconds(200),
        ReuseTimeWaitOnlyAfterClose = true,
        ConnectionEstablishmentTimeout = TimeSpan.FromSeconds(75),
        KeepAliveCount = 8,
        SynRetries = 12,
        MaxRto = TimeSpan.FromSeconds(64),
        DelayedAckTimeout = TimeSpan.FromMilliseconds(40),
        InitialRto = TimeSpan.FromSeconds(1),
        MinRto = TimeSpan.FromMilliseconds(30),
        SynAckRetries = 3,
        ResetWhenSynAckRetriesRunOut = false,
        RtoWithoutHandshakeSample = null,
        // Linux's additions stay off: the FreeBSD suite is matched without them.
        SlowStartAfterIdle = false,
        QuickAcks = 0,
        SlowStartByBytesAcked = false,
        GrowOnlyWhenCwndLimited = false,
        SilentlyDropAckOfUnsentData = false,
        ProportionalRateReduction = false,
        MinRtoOnVariance = false,
        Rack = false,
        UndoSpuriousTimeouts = false,
        ForwardRtoRecovery = false,
        InvalidAckRateLimit = null,
        OrphanRetries = null,
    };

    /// <summary>
    /// Linux's built-in defaults, before any sysctl is changed (the base Google's packetdrill scripts
    /// start from; their defaults.sh then sets what it lists): SYN options mss, sackOK, TS, nop,
    /// wscale; a 128 KiB receive buffer whose 6 MiB maximum gives window scale 7; a 16 KiB send
    /// buffer; CUBIC with HyStart, the tail loss probe, IW10; 1 s initial RTO, 200 ms minimum; the
    /// FIN's ACK delayed like any other; 6 SYN and 5 SYN-ACK retries; slow start after idle.
    /// </summary>
    public static ConnectionOptions Linux { get; } = new()
    {
        SynOptionLayout = TcpOptionLayout.Linux,
        ReceiveBufferSize = 131072,
        WindowScale = 7,
        SendBufferSize = 16384,
        ReceiveBufferMax = null, // Google's scripts' windows were matched without autotuning
        SendBufferMax = 4 * 1024 * 1024,
        SendBufferLikeLinux = true,
        SynRetries = 6,
        SynAckRetries = 5,
        ResetWhenSynAckRetriesRunOut = false,
        ResendSynAfterBadSynAck = TimeSpan.FromMilliseconds(2),
        AckAtOnceBeforeFirstData = true,
        AbortResetLikeAnySegment = true,
        ChallengeAckUnderInvalidAckLimit = true,
        EcnOffOnSynRetransmit = true,
        ReopenIsnAfterOldSequence = true,
        AcceptSegmentsReachingLastAck = true,
        TimeWaitWindowWraps = true,
        PushEveryGsoPacket = true,
        PingPongThreshold = 1,
        UserTimeoutFromFirstRetransmission = true,
        FinWait2TimeoutAtLeastRtos = true,
        RttFromEveryAck = true,
    };

    /// <summary>
    /// The kernel of the machine this was built beside (Linux 6.18): <see cref="Linux"/> with the rules
    /// that changed after Google's scripts were written, so Synack can be held to the live kernel
    /// (<c>synack conformance --target both</c>) while <see cref="Linux"/> stays what the scripts expect.
    /// </summary>
    public static ConnectionOptions Linux618 { get; } = Linux with
    {
        ChallengeAckOfUnsentData = true,
        OldAckWithinBytesAcked = true,
        OfferHalfTheReceiveBuffer = true,
        FinEndsQuickAck = true,
        SimultaneousOpenLikeLinux = true,
        // Two jiffies of this kernel (CONFIG_HZ=250); Google's scripts assume 1000 Hz.
        ResendSynAfterBadSynAck = TimeSpan.FromMilliseconds(8),
        SynLinearTimeouts = 4,
        TimeoutMin = TimeSpan.FromMilliseconds(8),
        // 6.18's tcp_rmem maximum is 32 MiB (it was 6 MiB): the scale that covers it is 10.
        WindowScale = 10,
    };

    /// <summary>RFC 9293's USER TIMEOUT for new connections (see <see cref="Connection.UserTimeout"/>); null: none.</summary>
    public TimeSpan? UserTimeout { get; init; }

    /// <summary>
    /// RFC 5681 4.1 (Linux's tcp_slow_start_after_idle): after an idle time longer than the RTO the
    /// window starts again (Linux halves it per RTO idle, down to the initial window).
    /// </summary>
    public bool SlowStartAfterIdle { get; init; } = true;

    /// <summary>
    /// Linux's quickack mode: after the first data and after a hole, up to this many ACKs go at once
    /// instead of waiting for the delayed-ACK timer (Linux: 16). 0: every ACK follows RFC 1122's rules.
    /// </summary>
    public int QuickAcks { get; init; } = 16;

    /// <summary>
    /// Slow start opens the window by every byte an ACK covers, as Linux does, rather than by at most
    /// one segment per ACK (RFC 5681 3.1; RFC 3465's L = 1): a receiver that acks every second segment
    /// then doubles the window per round trip just the same.
    /// </summary>
    public bool SlowStartByBytesAcked { get; init; } = true;

    /// <summary>
    /// RFC 7661's rule as Linux keeps it (tcp_is_cwnd_limited): the window grows only while the sender
    /// uses it — in slow start, while at least half of it was in flight; after, while it was full.
    /// </summary>
    public bool GrowOnlyWhenCwndLimited { get; init; } = true;

    /// <summary>
    /// An ACK of data never sent (SEG.ACK &gt; SND.NXT) is dropped without an answer and its timestamp
    /// not taken, as Linux does; false is RFC 9293's ACK in reply (and RFC 7323's TS.Recent update
    /// before the ACK check).
    /// </summary>
    public bool SilentlyDropAckOfUnsentData { get; init; } = true;

    /// <summary>
    /// With <see cref="SilentlyDropAckOfUnsentData"/>: the dropped segment gets a challenge ACK
    /// (rate-limited like every challenge), as Linux 6.18 does (tcp_ack, "send a challenge ACK on
    /// SEG.ACK &gt; SND.NXT"); older kernels, and Google's scripts, stay silent.
    /// </summary>
    public bool ChallengeAckOfUnsentData { get; init; }

    /// <summary>
    /// RFC 5961 5.2's lower edge, SND.UNA - MAX.SND.WND, counts the window only up to the bytes the peer
    /// has acknowledged so far, as Linux does since 6.2 ("do not accept ACK of bytes we never sent"):
    /// before anything is acknowledged an ACK below SND.UNA is answered with a challenge ACK and dropped.
    /// </summary>
    public bool OldAckWithinBytesAcked { get; init; }

    /// <summary>
    /// Offer the window as Linux does: half the receive buffer (tcp_win_from_space with its default
    /// scaling ratio: the other half is the room its accounting keeps for overhead), in whole segments of
    /// the MSS we announced (tcp_select_initial_window), the field rounded up to the window scale
    /// (__tcp_select_window), at most 65,535 in a SYN. False offers all free buffer space.
    /// </summary>
    public bool OfferHalfTheReceiveBuffer { get; init; }

    /// <summary>
    /// A FIN that arrives with data ends quickack mode before its ACK is decided, so the ACK waits for
    /// the delayed-ACK timer (Linux 6.18: tcp_fin enters pingpong mode first); older kernels, and
    /// Google's scripts, ack it at once while quickacks last.
    /// </summary>
    public bool FinEndsQuickAck { get; init; }

    /// <summary>
    /// Linux's delayed-ACK timeout (ato) is 0 until the first data segment arrives (or a duplicate, whose
    /// answer starts quickack mode): an ACK delayed before then — for a FIN that is the first thing the peer sends — goes at the next tick
    /// (found by <c>synack diff</c>: the kernel acked such a FIN within a jiffy, not after 40 ms).
    /// </summary>
    public bool AckAtOnceBeforeFirstData { get; init; }

    /// <summary>
    /// Simultaneous open as Linux does it: the SYN-ACK sent when the SYNs cross carries the options of
    /// our own SYN (tcp_send_synack builds it with tcp_syn_options), not only those the peer offered;
    /// and the peer's SYN-ACK that follows, which repeats a SYN already taken, is answered at once with
    /// an ACK carrying a D-SACK block for it (Linux 6.10 on). When the peer's SYN offered no window
    /// scale, Linux still shifts the windows it sends by the scale its own SYN offered. Found by <c>synack diff</c>.
    /// </summary>
    public bool SimultaneousOpenLikeLinux { get; init; }

    /// <summary>
    /// In SYN-SENT, after the RST for a SYN-ACK that acknowledges something else, the SYN goes again
    /// this soon if it has not been retransmitted yet (Linux: TCP_TIMEOUT_MIN, two jiffies); null: at
    /// the RTO as usual. Found by <c>synack diff</c>.
    /// </summary>
    public TimeSpan? ResendSynAfterBadSynAck { get; init; }

    /// <summary>
    /// A RST that aborts the connection (close with unread data, keep-alive or retransmissions given
    /// up, SO_LINGER 0) carries the window and timestamps any of its segments would (Linux builds it
    /// with tcp_transmit_skb); otherwise a window of 0 and no options. Found by <c>synack diff</c>.
    /// </summary>
    public bool AbortResetLikeAnySegment { get; init; }

    /// <summary>
    /// A challenge ACK first passes the connection's limit for ACKs to invalid segments
    /// (<see cref="InvalidAckRateLimit"/>, Linux's last_oow_ack_time), then the global one: two
    /// challenges within 500 ms get one ACK. Found by <c>synack diff</c>.
    /// </summary>
    public bool ChallengeAckUnderInvalidAckLimit { get; init; }

    /// <summary>
    /// Every retransmission of an ECN-setup SYN goes without ECE and CWR (Linux's tcp_ecn_clear_syn
    /// with tcp_ecn_fallback); otherwise the first <see cref="EcnSetupRetries"/> keep them. Found by <c>synack diff</c>.
    /// </summary>
    public bool EcnOffOnSynRetransmit { get; init; }

    /// <summary>
    /// A SYN that reopens a TIME-WAIT connection gets ISS = the old connection's SND.NXT + 65537, past
    /// anything the old incarnation sent (Linux's tcp_timewait_state_process); otherwise a fresh ISN as
    /// for any connection (RFC 6528). Found by <c>synack diff</c>.
    /// </summary>
    public bool ReopenIsnAfterOldSequence { get; init; }

    /// <summary>
    /// A segment of old text that ends at or past the last ACK sent is acceptable (Linux's
    /// tcp_sequence tests the end against rcv_wup, not RCV.NXT): its ACK field and its timestamp are
    /// taken — TS.Recent moves to a duplicate's TSval — and it is answered as a duplicate. Otherwise
    /// RFC 9293's test, and such a segment only gets an ACK. Found by <c>synack diff</c>.
    /// </summary>
    public bool AcceptSegmentsReachingLastAck { get; init; }

    /// <summary>
    /// The window of a TIME-WAIT ACK is the receive window the connection last chose, shifted, put
    /// into the 16-bit field without a clamp (Linux's tcp_v4_send_ack with tw_rcv_wnd): on a
    /// connection without window scaling and a buffer past 128 KiB it wraps (269328 goes out as 7184).
    /// Otherwise the last window offered. Found by <c>synack diff</c>.
    /// </summary>
    public bool TimeWaitWindowWraps { get; init; }

    /// <summary>
    /// PSH on the last segment of every packet of more than one segment Linux would hand its device
    /// (__tcp_transmit_skb forces it so the receiver's GRO flushes): with offload, each TSO segment
    /// longer than the MSS; without, the segments are grouped as Linux's tcp_tso_autosize would
    /// (about a millisecond of the pacing rate, at least two). Found by <c>synack diff</c>.
    /// </summary>
    public bool PushEveryGsoPacket { get; init; }

    /// <summary>
    /// Linux's interactive mode (pingpong): each data segment sent within the delayed-ACK time of data
    /// received counts as a reply; from this many on, quick ACKs stop (data is acked when the delayed
    /// ACK fires or a reply carries it), until a delayed ACK has to fire (net.ipv4.tcp_pingpong_thresh,
    /// 1). Null: no such mode. Found by <c>synack diff</c>.
    /// </summary>
    public int? PingPongThreshold { get; init; }

    /// <summary>
    /// The user timeout counts from the first retransmission by the retransmission timer (Linux's
    /// retrans_stamp, the retransmitted segment's new send time), not from when the data first went
    /// out: the connection lives that much longer and sends one more retransmission. Found by <c>synack diff</c>.
    /// </summary>
    public bool UserTimeoutFromFirstRetransmission { get; init; }

    /// <summary>
    /// RFC 6937 proportional rate reduction: in fast recovery (and after an ECN echo) the window comes
    /// down to the slow-start threshold in step with what the peer reports delivered, sending
    /// retransmissions and new data as RFC 6675's pipe allows, instead of RFC 5681's halving with
    /// inflation; at the end the window is the threshold (Linux's default since 3.2).
    /// </summary>
    public bool ProportionalRateReduction { get; init; } = true;

    /// <summary>
    /// Linux's RTO: SRTT + max(4·RTTVAR, <see cref="MinRto"/>) — the minimum bounds the variance term,
    /// so the RTO is at least a round trip plus 200 ms — rather than RFC 6298's max(SRTT + 4·RTTVAR, min).
    /// </summary>
    public bool MinRtoOnVariance { get; init; } = true;

    /// <summary>
    /// RACK (RFC 8985 section 6, Linux's tcp_recovery=1): with SACK, a segment is lost when one sent
    /// after it has been delivered and a round trip plus a reordering window has passed — found by
    /// time, so a lost retransmission is found too, and reordering (once seen) no longer looks like loss.
    /// </summary>
    public bool Rack { get; init; } = true;

    /// <summary>
    /// A retransmission timeout whose first ACK echoes a timestamp from before the retransmission was
    /// spurious (RFC 3522 Eifel detection): the window is restored and nothing more resent (RFC 4015;
    /// Linux's undo). Needs timestamps; F-RTO (RFC 5682) for connections without them is not done.
    /// </summary>
    public bool UndoSpuriousTimeouts { get; init; } = true;

    /// <summary>
    /// F-RTO (RFC 5682, basic; Linux's tcp_frto): after a timeout's retransmission, an ACK that moves
    /// SND.UNA sends two new segments instead of resending more; if the next ACK moves SND.UNA again,
    /// data never resent arrived, so the timeout was spurious and is undone. Finds what timestamps
    /// cannot: peers that do not send them. A duplicate ACK instead means real loss: go-back-N.
    /// </summary>
    public bool ForwardRtoRecovery { get; init; } = true;

    /// <summary>The MSS we announce in our SYN (RFC 9293 3.7.1).</summary>
    public ushort Mss { get; init; } = 1460;
    /// <summary>The DSCP new connections start with (IP_TOS / IPV6_TCLASS, upper six bits); 0 is best effort.</summary>
    public byte Dscp { get; init; }
    /// <summary>The TTL / hop limit new connections start with; 0 is the default (64).</summary>
    public byte HopLimit { get; init; }

    /// <summary>The MSS to announce: <see cref="Mss"/> over IPv4, 20 bytes less over IPv6 (its header is 20 bytes longer).</summary>
    public ushort AnnouncedMss(bool ipv6) => ipv6 ? (ushort)Math.Max(Mss - 20, 536) : Mss;
    /// <summary>Announce the MSS in our SYN. False (with the other options off) is BSD's TCP_NOOPT: a SYN without options.</summary>
    public bool SendMssOption { get; init; } = true;
    /// <summary>The send MSS assumed when the peer's IPv4 SYN carries no MSS option (RFC 9293: 536).</summary>
    public ushort DefaultPeerMss { get; init; } = 536;

    /// <summary>An IPv6 peer's MSS when its SYN names none: the IPv6 minimum MTU, 1280, less 60 bytes of headers (RFC 8200, RFC 9293 3.7.1).</summary>
    public const ushort DefaultPeerMssV6 = 1220;

    /// <summary>The send MSS assumed for a peer whose SYN carries no MSS option.</summary>
    public ushort PeerMssWithoutOption(bool ipv6) => ipv6 ? DefaultPeerMssV6 : DefaultPeerMss;
    /// <summary>The order and padding of the SYN's options.</summary>
    public TcpOptionLayout SynOptionLayout { get; init; } = TcpOptionLayout.Linux;
    /// <summary>Offer window scaling (RFC 7323).</summary>
    public bool WindowScaling { get; init; } = true;
    /// <summary>Our window scale shift; null computes it from the receive buffer.</summary>
    public byte? WindowScale { get; init; }
    /// <summary>Offer SACK (RFC 2018).</summary>
    public bool Sack { get; init; } = true;
    /// <summary>Offer timestamps (RFC 7323).</summary>
    public bool Timestamps { get; init; } = true;

    /// <summary>
    /// Linux's net.ipv4.tcp_notsent_lowat for new connections (see <see cref="Connection.NotSentLowWater"/>):
    /// null, no limit beyond the send buffer.
    /// </summary>
    public int? NotSentLowWater { get; init; }

    /// <summary>SO_SNDBUF: bytes the send buffer holds (it may grow up to <see cref="SendBufferMax"/>).</summary>
    public int SendBufferSize { get; init; } = 256 * 1024;
    /// <summary>Round the receive buffer up to a whole number of segments once the MSS is known (BSD).</summary>
    public bool RoundReceiveBufferToMss { get; init; }
    /// <summary>
    /// close() with unread received data resets the connection (RFC 1122 4.2.2.13, Linux); false
    /// discards the data and closes with FIN (FreeBSD).
    /// </summary>
    public bool ResetOnCloseWithUnreadData { get; init; } = true;
    /// <summary>
    /// After shutdown of the receive side (SHUT_RD), new data arriving in FIN-WAIT-1 or FIN-WAIT-2
    /// resets the connection, as after close() (Linux's RCV_SHUTDOWN rule, RFC 1122 4.2.2.13); false:
    /// only a closed application's connection resets (FreeBSD's SS_NOFDREF), the data is taken.
    /// </summary>
    public bool ResetDataAfterReceiveShutdown { get; init; } = true;
    /// <summary>
    /// Receiver silly-window avoidance as BSD does it: every segment offers all free buffer space
    /// (zero when that is under a quarter buffer and under a segment). False is RFC 9293 3.8.6.2.2:
    /// the right edge moves only in steps of min(buffer/2, MSS).
    /// </summary>
    public bool AdvertiseFreeSpace { get; init; }
    /// <summary>
    /// While our FIN is unacknowledged, an ACK we send carries the FIN again at the FIN's sequence
    /// number (BSD). False sends a bare ACK at SND.NXT, as RFC 9293 and Linux do.
    /// </summary>
    public bool RepeatFinUntilAcked { get; init; }
    /// <summary>
    /// A segment is acceptable if it fits the free receive buffer, even past the window we could
    /// announce in 16 bits (BSD's rcv_wnd = max(sbspace, rcv_adv - rcv_nxt)). False checks against the
    /// advertised window only, as RFC 9293 3.10.7.4 reads.
    /// </summary>
    public bool AcceptWithinBufferSpace { get; init; }
    /// <summary>
    /// A segment wholly to the left of the window (an old duplicate) still has its ACK field processed
    /// before it is answered with an ACK (BSD). False drops it after the ACK, as RFC 9293 3.10.7.4 says.
    /// </summary>
    public bool ProcessAckOfOldSegments { get; init; }
    /// <summary>The RST that aborts a synchronized connection carries ACK = RCV.NXT (Linux and BSD do); false sends a bare RST.</summary>
    public bool ResetCarriesAck { get; init; } = true;
    /// <summary>Report duplicate data in a D-SACK block (RFC 2883), as Linux and FreeBSD do.</summary>
    public bool DuplicateSack { get; init; } = true;
    /// <summary>ECN (RFC 3168): agreed to when asked by default, as Linux and FreeBSD do.</summary>
    public EcnMode Ecn { get; init; } = EcnMode.Accept;
    /// <summary>How many SYN retransmissions still ask for ECN before we fall back (FreeBSD ecn.maxretries).</summary>
    public int EcnSetupRetries { get; init; } = 1;
    /// <summary>With timestamps agreed, drop a non-RST segment that carries none (RFC 7323 3.2 SHOULD; BSD). False tolerates it (Linux).</summary>
    public bool DropSegmentsWithoutTimestamps { get; init; }
    /// <summary>Fast retransmit and recovery on three duplicate ACKs (RFC 5681 3.2, RFC 6582), guided by SACK blocks.</summary>
    public bool FastRetransmit { get; init; } = true;
    /// <summary>The delayed ACK goes at once on every second data segment, whatever its size (BSD); false counts bytes: two full-sized segments (RFC 5681 4.2, Linux).</summary>
    public bool AckEverySecondSegment { get; init; }
    /// <summary>Keep out-of-order data for reassembly even when SACK was not negotiated (it is always kept when it was).</summary>
    public bool QueueOutOfOrderWithoutSack { get; init; } = true;
    /// <summary>In TIME-WAIT, a segment without the ACK bit is dropped without an answer, even out of the window (BSD's tcp_twcheck).</summary>
    public bool TimeWaitDropsSegmentsWithoutAck { get; init; }
    /// <summary>SO_RCVBUF: bytes the receive buffer holds to start with; the window offered comes from it.</summary>
    public int ReceiveBufferSize { get; init; } = 256 * 1024;

    /// <summary>
    /// Receive-buffer autotuning (Linux's tcp_moderate_rcvbuf): the buffer starts at
    /// <see cref="ReceiveBufferSize"/> and grows with the rate the application reads, up to this (Linux's
    /// tcp_rmem maximum, 6 MiB); the window scale is chosen to cover it. Null: the buffer stays as set.
    /// Setting SO_RCVBUF on a connection turns it off there, as on Linux.
    /// </summary>
    public int? ReceiveBufferMax { get; init; } = 6 * 1024 * 1024;

    /// <summary>
    /// SO_SNDBUF as Linux counts it: the limit bounds the queue's memory (its bytes and about 1,280 bytes
    /// for each socket buffer holding them), tested only when a write starts a new chunk of
    /// tcp_xmit_size_goal bytes, so one write may queue up to a chunk past it; the limit starts at
    /// <see cref="SendBufferSize"/> (tcp_wmem's default) and autotunes as tcp_sndbuf_expand does, on
    /// connecting and whenever a writer that found no room is answered with the congestion window not full,
    /// up to <see cref="SendBufferMax"/>. What poll and write() report then matches the kernel's. False: the
    /// buffer holds <see cref="SendBufferSize"/> bytes of data, exactly.
    /// </summary>
    public bool SendBufferLikeLinux { get; init; }

    /// <summary>
    /// Linux's tcp_min_tso_segs: the fewest segments a GSO packet is sized for, however slow the pacing
    /// rate (<see cref="PushEveryGsoPacket"/> marks where such packets end). Linux's default is 2.
    /// </summary>
    public int MinTsoSegments { get; init; } = 2;

    /// <summary>
    /// Send-buffer autotuning (Linux's tcp_sndbuf_expand): when the application finds the buffer full
    /// while the congestion window has room, the buffer grows to twice the window, up to this (Linux's
    /// tcp_wmem maximum, 4 MiB). Null: the buffer stays <see cref="SendBufferSize"/>. SO_SNDBUF turns it off.
    /// </summary>
    public int? SendBufferMax { get; init; } = 4 * 1024 * 1024;

    /// <summary>The RTO before any round-trip sample (RFC 6298: 1 s).</summary>
    public TimeSpan InitialRto { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>
    /// RFC 6298 5.7 (Linux's TCP_TIMEOUT_FALLBACK in tcp_init_metrics): when the handshake gave no RTT
    /// sample (its SYN or SYN-ACK was retransmitted, no timestamp echoed), data starts with this RTO.
    /// Null: the RTO the handshake left.
    /// </summary>
    public TimeSpan? RtoWithoutHandshakeSample { get; init; } = TimeSpan.FromSeconds(3);
    /// <summary>
    /// Linux's RTT sampling (tcp_clean_rtx_queue): every ACK of new data gives a sample, from the send
    /// time of the oldest segment it covers (none if any of them was sent twice), in preference to the
    /// timestamp echo; RFC 6298 times one segment a round trip. Needs the record of segments in flight
    /// that RACK keeps (SACK on); without it the RFC's way is kept.
    /// </summary>
    public bool RttFromEveryAck { get; init; }
    /// <summary>
    /// Linux's TCP_TIMEOUT_MIN, two jiffies (2 ms at the 1000 Hz Google's scripts assume, 8 ms at this
    /// machine's 250): RACK's reordering timer, and a tail loss probe with more than one segment out,
    /// come this much later than the RFC's times.
    /// </summary>
    public TimeSpan TimeoutMin { get; init; } = TimeSpan.FromMilliseconds(2);
    /// <summary>The floor of the RTO (Linux: 200 ms; RFC 6298 says 1 s).</summary>
    public TimeSpan MinRto { get; init; } = TimeSpan.FromMilliseconds(200);
    /// <summary>The ceiling of the RTO, backoff included.</summary>
    public TimeSpan MaxRto { get; init; } = TimeSpan.FromSeconds(120);
    /// <summary>Added to every RTO computed from samples (BSD's net.inet.tcp.rexmit_slop, 200 ms); zero is RFC 6298.</summary>
    public TimeSpan RtoSlop { get; init; }
    /// <summary>SYN cookies (RFC 4987): a listener whose SYN queue is full answers without keeping state, as Linux does by default.</summary>
    public SynCookieMode SynCookies { get; init; } = SynCookieMode.WhenNeeded;
    /// <summary>Drop every segment with both SYN and FIN set (FreeBSD's net.inet.tcp.drop_synfin).</summary>
    public bool DropSynFin { get; init; }
    /// <summary>
    /// A hard ICMP error (port or protocol unreachable, administratively prohibited, TTL exceeded) for
    /// our SYN ends the connect at once (FreeBSD icmp_may_rst, Linux). Soft errors never end a connection.
    /// </summary>
    public bool IcmpAbortsConnect { get; init; } = true;
    /// <summary>An active open that is not established within this time fails with a timeout (BSD's keepinit; Linux has none: null).</summary>
    public TimeSpan? ConnectionEstablishmentTimeout { get; init; }
    /// <summary>From this SYN retransmission on, the SYN carries only the MSS, in case options are what is being dropped (BSD's rexmit_drop_options: 3). Null never drops them.</summary>
    public int? DropSynOptionsAfterRetries { get; init; }
    /// <summary>
    /// A SYN may reopen a tuple in TIME-WAIT (RFC 6191) only once the application has closed the socket;
    /// while it still holds it the SYN gets the answer of a synchronized state (BSD keeps a full TCB then).
    /// </summary>
    public bool ReuseTimeWaitOnlyAfterClose { get; init; }
    /// <summary>SYN retransmissions before connect fails (Linux tcp_syn_retries).</summary>
    public int SynRetries { get; init; } = 6;
    /// <summary>
    /// Linux 6.5's tcp_syn_linear_timeouts: the first this many SYN retransmission timeouts keep the
    /// initial RTO (1 s apart) before backoff doubles it, and connect gives up by time instead of by
    /// count — once the first SYN is as old as <see cref="SynRetries"/> doubled timeouts would take
    /// (tcp_model_timeout: 3 s for 1, 7 s for 2, 127 s for 6), so linear retransmissions come on top.
    /// 0: every timeout doubles, and <see cref="SynRetries"/> counts them.
    /// </summary>
    public int SynLinearTimeouts { get; init; }
    /// <summary>SYN-ACK retransmissions before a half-open connection is dropped (Linux tcp_synack_retries).</summary>
    public int SynAckRetries { get; init; } = 5;
    /// <summary>
    /// When the SYN-ACK retries run out, the half-open connection is dropped with a RST to the peer (the
    /// study note's S4); false drops it in silence, as Linux's request sockets and FreeBSD's syncache do
    /// (a late final ACK then meets the listener and is reset).
    /// </summary>
    public bool ResetWhenSynAckRetriesRunOut { get; init; } = true;
    /// <summary>Data retransmissions before the connection fails (RFC 9293 R2, Linux tcp_retries2).</summary>
    public int DataRetries { get; init; } = 15;
    /// <summary>
    /// Retransmissions and zero-window probes an orphaned connection (closed by its application, still
    /// draining) gets before it is dropped, answered probes counting too: Linux's tcp_orphan_retries
    /// (0 there means 8). Without it, a peer that holds its window shut keeps an orphan and its send
    /// buffer forever. Null: the same as any connection (BSD).
    /// </summary>
    public int? OrphanRetries { get; init; } = 8;

    /// <summary>Maximum segment lifetime; TIME-WAIT lasts twice this (Linux: 60 s in all).</summary>
    public TimeSpan Msl { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>
    /// How long a connection the application has closed may sit in FIN-WAIT-2 (Linux tcp_fin_timeout,
    /// TCP_LINGER2). Negative: not at all, as Linux's linger2 &lt; 0 — the ACK of our FIN is answered
    /// with RST, and close() in FIN-WAIT-2 resets.
    /// </summary>
    public TimeSpan FinWait2Timeout { get; init; } = TimeSpan.FromSeconds(60);
    /// <summary>
    /// The FIN-WAIT-2 timeout is at least 3.5 RTOs (Linux's tcp_fin_time), so a short one does not
    /// outrun the peer's retransmitted FIN.
    /// </summary>
    public bool FinWait2TimeoutAtLeastRtos { get; init; }

    /// <summary>SO_KEEPALIVE: probe an idle connection (RFC 1122 4.2.3.6).</summary>
    public bool KeepAlive { get; init; }
    /// <summary>TCP_KEEPIDLE: idle time before the first probe.</summary>
    public TimeSpan KeepAliveIdle { get; init; } = TimeSpan.FromHours(2);
    /// <summary>TCP_KEEPINTVL: time between unanswered probes.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(75);
    /// <summary>TCP_KEEPCNT: unanswered probes before the connection fails with a timeout.</summary>
    public int KeepAliveCount { get; init; } = 9;

    /// <summary>Delay ACKs of data (RFC 1122 4.2.3.2, RFC 5681 4.2).</summary>
    public bool DelayedAck { get; init; } = true;
    /// <summary>The longest an ACK is delayed (Linux: 40 ms minimum; RFC 1122 allows up to 500 ms).</summary>
    public TimeSpan DelayedAckTimeout { get; init; } = TimeSpan.FromMilliseconds(40);
    /// <summary>
    /// Delay the ACK of a FIN like the ACK of data. If the application closes before it fires, the ACK
    /// rides on our FIN: the "only three segments" close that captures show (docs/scenarios.md, S9).
    /// </summary>
    public bool DelayAckOfFin { get; init; } = true;
    /// <summary>Nagle's algorithm (RFC 896, RFC 1122 4.2.3.4); false is TCP_NODELAY.</summary>
    public bool Nagle { get; init; } = true;
    /// <summary>Minshall's variant of Nagle (Linux): hold a small segment only while an earlier small one is unacknowledged. False is the classic rule (BSD).</summary>
    public bool NagleMinshall { get; init; } = true;
    /// <summary>The congestion controller: CUBIC (RFC 9438), as Linux; the FreeBSD profile keeps NewReno, which its scripts assume.</summary>
    public CongestionControlAlgorithm CongestionControl { get; init; } = CongestionControlAlgorithm.Cubic;
    /// <summary>HyStart++ (RFC 9406) in CUBIC's slow start, as Linux: leave slow start gently when the round trip starts to grow.</summary>
    public bool HyStart { get; init; } = true;
    /// <summary>
    /// RFC 8985's tail loss probe (Linux's default): when the end of a flight goes unacknowledged for
    /// two round trips, send one probe (new data, or the last segment again) instead of waiting for the
    /// retransmission timer. Needs SACK; the FreeBSD profile has it off, as FreeBSD's default stack.
    /// </summary>
    public bool TailLossProbe { get; init; } = true;
    /// <summary>RFC 3042 limited transmit (Linux and FreeBSD both do it): new data on the first two duplicate ACKs.</summary>
    public bool LimitedTransmit { get; init; } = true;
    /// <summary>Initial congestion window in segments (RFC 6928).</summary>
    public int InitialWindowSegments { get; init; } = 10;

    /// <summary>RFC 5961 handling of RST and SYN (challenge ACKs). False is the RFC 793 behaviour.</summary>
    public bool Rfc5961
    {
        get => Rfc5961Rst && Rfc5961Syn;
        init => Rfc5961Rst = Rfc5961Syn = value;
    }
    /// <summary>RFC 5961 section 3: a RST not exactly at RCV.NXT gets a challenge ACK (FreeBSD insecure_rst=0).</summary>
    public bool Rfc5961Rst { get; init; } = true;
    /// <summary>RFC 5961 section 4: a SYN in a synchronized state gets a challenge ACK (FreeBSD insecure_syn=0).</summary>
    public bool Rfc5961Syn { get; init; } = true;
    /// <summary>Challenge ACKs allowed per second (RFC 5961 section 7).</summary>
    public int ChallengeAckLimit { get; init; } = 100;
    /// <summary>
    /// The least time between two duplicate ACKs sent for out-of-window or PAWS-failed segments that
    /// carry no data (Linux's tcp_invalid_ratelimit, 500 ms): two stacks that disagree about the window
    /// cannot ACK each other in a loop, and a blind attacker's bare ACKs earn almost nothing. Segments
    /// with data are always answered, as in Linux. Null answers every one (BSD).
    /// </summary>
    public TimeSpan? InvalidAckRateLimit { get; init; } = TimeSpan.FromMilliseconds(500);
    /// <summary>RFC 1337: ignore RST in TIME-WAIT. RFC 9293 (and Linux by default) closes instead.</summary>
    public bool IgnoreRstInTimeWait { get; init; }

    internal byte EffectiveWindowScale
    {
        get
        {
            if (WindowScale is byte ws) return Math.Min(ws, (byte)14);
            byte shift = 0;
            long largest = Math.Max(ReceiveBufferSize, ReceiveBufferMax ?? 0);
            while (shift < 14 && (65535L << shift) < largest) shift++;
            return shift;
        }
    }
}
