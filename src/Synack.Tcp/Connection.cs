using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// One TCP connection: the transmission control block and its state machine (RFC 9293 section 3.10),
/// sans-I/O. Inputs are a segment, a user call or a timer, each with <c>now</c>; outputs go to the
/// <see cref="IConnectionHost"/>: segments to send, state changes and user events. The caller asks
/// <see cref="NextDeadline"/> when to call <see cref="OnTimer"/> next. No clock, no thread, no I/O.
/// </summary>
public sealed partial class Connection : ISegmentOutput
{
    private readonly ConnectionOptions _o;
    private readonly IIsnGenerator _isnGenerator;
    private readonly IConnectionHost _host;
    private readonly Sender _snd;
    private readonly Receiver _rcv;
    private ChallengeAckLimiter? _challengeAcks; // made at the first challenge ACK
    private PendingEvents _pendingEvents;
    private int _depth;

    // Negotiated options.
    private bool _wsOk, _sackOk, _tsOk;
    private uint _tsRecent, _tsOffset;
    private SeqNum _lastAckSent;

    /// <summary>SYN, SYN-ACK and data retransmissions so far (reset by every ACK of something new).</summary>
    private int _retries;
    private int _keepAliveProbes;
    private KeepAliveSettings? _keepAliveSet; // SO_KEEPALIVE and TCP_KEEP* set on the open connection; null: the options'
    private TimeSpan _heardAt;                // the last segment that passed the acceptability test (Linux's rcv_tstamp)
    private bool _passiveOpen;
    private bool _orphaned;
    private bool _receiveShutdown; // SHUT_RD
    private int _accountedBytes; // the buffer storage last reported to the host (fits the object's padding: no cost)

    /// <summary>How many separate ranges wait out of order (bounded by <see cref="ReassemblyQueue.MaxRanges"/>).</summary>
    internal int OutOfOrderRanges => _rcv.OutOfOrderRanges;
    internal int SackScoreboardRanges => _snd.ScoreboardRanges;
    internal int SentSegmentCount => _snd.SentSegmentCount;

    /// <summary>A connection in CLOSED for <paramref name="tuple"/>; open it with an active or passive OPEN. Its output goes to <paramref name="host"/>.</summary>
    public Connection(FourTuple tuple, ConnectionOptions? options, IIsnGenerator isnGenerator, IConnectionHost host)
    {
        _o = options ?? ConnectionOptions.Default;
        _isnGenerator = isnGenerator;
        _host = host;
        Tuple = tuple;
        _snd = new Sender(_o, this);
        _rcv = new Receiver(_o);
        Dscp = _o.Dscp;
        UserTimeout = _o.UserTimeout;
        HopLimit = _o.HopLimit;
        ClearTimers();
    }

    /// <summary>Local and remote address and port.</summary>
    public FourTuple Tuple { get; private set; }
    /// <summary>The host's own reference for this connection (its table entry); the connection never reads it.</summary>
    public object? Tag { get; set; }
    /// <summary>TS.Recent and the timestamp clock offset, for a host that keeps TIME-WAIT without the connection.</summary>
    internal uint TsRecent => _tsRecent;
    internal uint TsOffset => _tsOffset;
    /// <summary>The RFC 9293 state.</summary>
    public TcpState State { get; private set; }
    /// <summary>In TIME-WAIT, all the connection still needs (a snapshot taken at each call): a host may keep this and let the connection go.</summary>
    public TimeWaitState? TimeWait => State == TcpState.TimeWait ? TimeWaitState.Of(this, _endAt) : null;
    /// <summary>The options the connection was made with (its profile).</summary>
    public ConnectionOptions Options => _o;
    /// <summary>Why the connection failed, once it has; <see cref="TcpError.None"/> otherwise.</summary>
    public TcpError Error { get; private set; }

    /// <summary>ISS: our initial sequence number.</summary>
    public SeqNum Iss => _snd.Iss;
    /// <summary>IRS: the peer's initial sequence number.</summary>
    public SeqNum Irs => _rcv.Irs;
    /// <summary>SND.UNA: the oldest unacknowledged sequence number.</summary>
    public SeqNum SndUna => _snd.Una;
    /// <summary>SND.NXT: the next sequence number to send.</summary>
    public SeqNum SndNxt => _snd.Nxt;
    /// <summary>The highest sequence number sent so far (above SND.NXT while a retransmission is under way).</summary>
    public SeqNum SndMax => _snd.Max;
    /// <summary>RCV.NXT: the next sequence number expected from the peer.</summary>
    public SeqNum RcvNxt => _rcv.Nxt;
    /// <summary>SND.WND: the peer's window, in bytes (scaled).</summary>
    public uint SndWnd => _snd.Wnd;
    /// <summary>RCV.WND: the window we offer, in bytes (scaled).</summary>
    public uint RcvWnd => _rcv.Window;

    /// <summary>The receive window as last chosen, not clamped to what the field can say, less what arrived since.</summary>
    internal uint ReceiveWindowUnclamped => _orphanWindow ?? _rcv.SelectedWindowLeft;

    private uint? _orphanWindow; // what an orphan's FIN-WAIT-2 kept of its window, as Linux's TIME-WAIT socket does
    /// <summary>The window segments are checked against: the advertised one, or with BSD's rule the free buffer space when that is larger.</summary>
    internal uint AcceptanceWindow => _rcv.AcceptanceWindow(advertisedOnly: State == TcpState.SynReceived && _passiveOpen);
    /// <summary>The congestion window, in bytes.</summary>
    public uint CongestionWindow => _snd.Congestion.Window;
    /// <summary>The slow-start threshold, in bytes.</summary>
    public uint SlowStartThreshold => _snd.Congestion.SlowStartThreshold;
    /// <summary>The largest payload we send in one segment (the peer's MSS less options).</summary>
    public int SendMss => _snd.Mss;
    /// <summary>Both SYNs carried window scale (RFC 7323).</summary>
    public bool WindowScaleNegotiated => _wsOk;
    /// <summary>The shift applied to the peer's window field.</summary>
    public byte SendWindowShift => _snd.Shift;
    /// <summary>The shift applied to the window we advertise.</summary>
    public byte ReceiveWindowShift => _rcv.Shift;
    /// <summary>Both SYNs carried SACK-permitted (RFC 2018).</summary>
    public bool SackNegotiated => _sackOk;
    /// <summary>Both SYNs carried timestamps (RFC 7323).</summary>
    public bool TimestampsNegotiated => _tsOk;
    /// <summary>The current retransmission timeout, backoff included (RFC 6298).</summary>
    public TimeSpan Rto => _snd.Rto.Rto;
    /// <summary>SRTT, or null before the first round-trip sample.</summary>
    public TimeSpan? SmoothedRtt => _snd.Rto.HasSample ? _snd.Rto.Srtt : null;
    /// <summary>Bytes accepted from the user and not yet acknowledged by the peer.</summary>
    public int SendQueued => _snd.Buffer.Count;
    /// <summary>Bytes the send buffer can still take.</summary>
    public int SendSpace => _o.SendBufferLikeLinux ? (int)Math.Clamp(_snd.MemoryRoom, 0, int.MaxValue) : _snd.Buffer.Free;
    /// <summary>Bytes received in order and not yet read by the user.</summary>
    public int ReceiveQueued => _rcv.Buffer.Count;
    /// <summary>The receive buffer's size (SO_RCVBUF): the configured size, maybe rounded to whole segments.</summary>
    public int ReceiveBufferSize => _rcv.Buffer.Capacity;
    /// <summary>True once the peer's FIN has been received: after the queued bytes, reads see end of stream.</summary>
    public bool PeerFinished => _rcv.FinReceived;
    /// <summary>Data or FIN segments sent again (by the retransmission timer's go-back-N).</summary>
    public long RetransmittedSegments => _snd.RetransmittedSegments;
    /// <summary>Fast recoveries the peer's D-SACKs showed unneeded (reordering), and undone.</summary>
    public int SpuriousRecoveries => _snd.SpuriousRecoveries;
    /// <summary>Retransmission timeouts found spurious (RFC 3522) and undone.</summary>
    public int SpuriousTimeouts => _snd.SpuriousTimeouts;
    /// <summary>Tail loss probes sent (RFC 8985 7).</summary>
    public long TailLossProbes => _snd.TailLossProbes;
    /// <summary>True while fast recovery runs (after three duplicate ACKs, until everything then outstanding is acked).</summary>
    public bool InFastRecovery => _snd.InFastRecovery;
    /// <summary>True once the user has closed the sending direction (RFC 9293 CLOSE).</summary>
    public bool SendClosed => _snd.FinQueued;
    /// <summary>True once the application has closed the socket (close(), not only shutdown of sending).</summary>
    public bool Orphaned => _orphaned;
    /// <summary>The DSCP of every packet from here on (IP_TOS / IPV6_TCLASS); may change at any time.</summary>
    public byte Dscp { get; set; }
    /// <summary>The TTL / hop limit of every packet from here on (IP_TTL / IPV6_UNICAST_HOPS); 0 is the default, 64.</summary>
    public byte HopLimit { get; set; }

    // ---------------------------------------------------------------- user calls (RFC 9293 3.10.1-3.10.6)

    /// <summary>Active OPEN: send a SYN and enter SYN-SENT.</summary>
    public TcpError OpenActive(TimeSpan now)
    {
        if (State != TcpState.Closed || _snd.Iss != default || _snd.Max != default) return TcpError.ConnectionAlreadyExists;
        if (Tuple.RemotePort == 0) return TcpError.InvalidState; // "foreign socket unspecified"
        using var _ = Enter();
        _passiveOpen = false;
        ChooseIss(now);
        _rcv.Shift = _o.WindowScaling ? _o.EffectiveWindowScale : (byte)0;
        SendSyn(now, ack: false);
        _unansweredSince = now; // the first SYN's time: a time-based give-up counts from it (retrans_stamp)
        SetState(TcpState.SynSent, "user OPEN (active)");
        ArmRetransmission(now);
        // BSD runs the connection-establishment timer on the keep-alive timer's slot, as here.
        if (_o.ConnectionEstablishmentTimeout is TimeSpan limit) _keepAliveAt = now + limit;
        return TcpError.None;
    }

    /// <summary>Passive OPEN: wait in LISTEN for a SYN.</summary>
    public TcpError OpenPassive()
    {
        if (State != TcpState.Closed || _snd.Iss != default || _snd.Max != default) return TcpError.ConnectionAlreadyExists;
        using var _ = Enter();
        _passiveOpen = true;
        SetState(TcpState.Listen, "user OPEN (passive)");
        return TcpError.None;
    }

    /// <summary>SEND: queue bytes; returns how many were accepted (fewer when the buffer is full).</summary>
    /// <param name="more">MSG_MORE: more data follows at once; a partial segment waits for it.</param>
    /// <param name="endOfRecord">MSG_EOR: these bytes end a record; later ones start a segment of their own (applies only when all were taken).</param>
    public int Send(ReadOnlySpan<byte> data, TimeSpan now, out TcpError error, bool more = false, bool endOfRecord = false)
    {
        if ((error = SendRefusal()) != TcpError.None) return 0;
        using var _ = Enter();
        _snd.MoreComing = more;
        if (data.Length > 0 && _snd.Buffer.StorageBytes == 0 && _host.Pressure == MemoryPressure.Exhausted)
        {
            // No buffer memory to be had: the write waits (sk_stream_memory_free), as on Linux at tcp_mem's top.
            _host.MemoryRefused(this);
            error = TcpError.WouldBlock;
            return 0;
        }
        int n = NotSentLowWater is not null || _o.SendBufferLikeLinux ? WriteInChunks(data, now) : _snd.Buffer.Write(data);
        if (n == 0 && data.Length > 0) error = TcpError.WouldBlock;
        if (endOfRecord && n == data.Length && n > 0) _snd.EndRecord();
        if (n < data.Length) NoteSendBufferFull(now);
        if (State is TcpState.Established or TcpState.CloseWait) Output(now);
        return n;
    }

    /// <summary>
    /// SEND from <paramref name="source"/>, written straight into the send buffer's free space (at most
    /// <paramref name="limit"/> bytes): the same rules as <see cref="Send"/>, without the copy in between.
    /// </summary>
    internal long SendFrom(ISendSource source, long limit, TimeSpan now, out TcpError error)
    {
        if ((error = SendRefusal()) != TcpError.None) return 0;
        using var _ = Enter();
        _snd.MoreComing = false;
        long total = 0, asked = limit;
        if (_o.SendBufferLikeLinux && _snd.Memory is { } memory)
        {
            // Linux's accounting, without the chunking: what fits under SO_SNDBUF, as one buffer more.
            limit = Math.Min(limit, Math.Max(0, _snd.MemoryRoom));
            if (_snd.Buffer.Free < limit) _snd.Buffer.Resize((int)Math.Min(int.MaxValue, _snd.Buffer.Count + limit));
            if (limit > 0) memory.StartChunk(_snd.DataEnd);
        }
        try
        {
            while (total < limit)
            {
                var free = _snd.Buffer.FreeSpan();
                if (free.IsEmpty) break;
                if (free.Length > limit - total) free = free[..(int)(limit - total)];
                int n = source.Fill(free);
                if (n <= 0) break;
                _snd.Buffer.Commit(Math.Min(n, free.Length));
                total += n;
            }
        }
        finally
        {
            // What the source wrote before it failed is queued: send it.
            if (total < asked && SendSpace == 0) NoteSendBufferFull(now);
            if (total == 0 && asked > 0 && SendSpace == 0) error = TcpError.WouldBlock;
            if (State is TcpState.Established or TcpState.CloseWait) Output(now);
        }
        return total;
    }

    /// <summary>Why SEND is refused in this state (RFC 9293 3.10.2), or None: before the handshake ends data is queued.</summary>
    private TcpError SendRefusal() => State switch
    {
        TcpState.Closed => Error != TcpError.None ? Error : TcpError.ConnectionDoesNotExist,
        TcpState.Listen => TcpError.InvalidState,
        TcpState.FinWait1 or TcpState.FinWait2 or TcpState.Closing or TcpState.LastAck or TcpState.TimeWait => TcpError.ConnectionClosing,
        _ when _snd.FinQueued => TcpError.ConnectionClosing,
        _ => TcpError.None,
    };

    /// <summary>
    /// RECEIVE: copy in-order bytes. Returns the count; 0 with <see cref="TcpError.None"/> is end of
    /// stream (the peer closed), 0 with <see cref="TcpError.WouldBlock"/> means nothing yet.
    /// </summary>
    public int Receive(Span<byte> dest, TimeSpan now, out TcpError error)
    {
        error = TcpError.None;
        if (_rcv.Buffer.Count == 0)
        {
            if (_rcv.FinReceived) return 0;
            if (State == TcpState.Closed)
            {
                error = Error != TcpError.None ? Error : TcpError.ConnectionDoesNotExist;
                return 0;
            }
            error = TcpError.WouldBlock;
            return 0;
        }
        using var _ = Enter();
        uint before = RcvWnd;
        int n = _rcv.Buffer.Read(dest);
        if (_host.Pressure == MemoryPressure.None) _rcv.NoteRead(n, now, _snd.Rto.HasSample ? _snd.Rto.Srtt : TimeSpan.Zero); // no growing under pressure
        if (State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2 && _rcv.WindowUpdateDue(before, _snd.Mss)) SendAck(now);
        return n;
    }

    /// <summary>
    /// RFC 9293's USER TIMEOUT (RFC 5482; Linux's TCP_USER_TIMEOUT): how long sent data may stay
    /// unacknowledged before the connection is given up with <see cref="TcpError.TimedOut"/>. Null:
    /// the retransmission count (<see cref="ConnectionOptions.DataRetries"/>) decides alone.
    /// </summary>
    public TimeSpan? UserTimeout
    {
        get => _userTimeoutTicks == 0 ? null : new TimeSpan(_userTimeoutTicks);
        set => _userTimeoutTicks = value is TimeSpan t && t > TimeSpan.Zero ? t.Ticks : 0;
    }

    private long _userTimeoutTicks; // 0: none (half the size of a TimeSpan?, per connection)

    /// <summary>
    /// TCP_LINGER2: how long this connection, once closed by the application, may wait in FIN-WAIT-2
    /// for the peer's FIN; negative, not at all (reset). Starts as <see cref="ConnectionOptions.FinWait2Timeout"/>.
    /// </summary>
    public TimeSpan FinWait2Timeout
    {
        get => _finWait2Ticks == 0 ? _o.FinWait2Timeout : new TimeSpan(_finWait2Ticks);
        set => _finWait2Ticks = value == TimeSpan.Zero ? 0 : value.Ticks;
    }

    private long _finWait2Ticks; // 0: the options' value

    /// <summary>
    /// TCP_NOTSENT_LOWAT: a write queues more only while fewer than this many bytes wait unsent, so an
    /// application that writes as fast as it may keeps little queued behind the window and can still
    /// change its mind about what goes next (HTTP/2 priorities). Linux's rule, chunk by chunk: a new
    /// chunk of the write (<see cref="WriteChunk"/>) starts only below the mark, and a chunk begun is
    /// filled. Null: the connection's options decide (<see cref="ConnectionOptions.NotSentLowWater"/>).
    /// </summary>
    public int? NotSentLowWater
    {
        get => _notSentLowWater > 0 ? _notSentLowWater : _o.NotSentLowWater;
        set => _notSentLowWater = value is int v && v > 0 ? v : 0;
    }

    private int _notSentLowWater; // 0: the options' value

    /// <summary>Bytes written and not yet sent (tcpi_notsent_bytes).</summary>
    public long Unsent => State.IsSynchronized() ? Math.Max(0, _snd.DataEnd - _snd.Nxt) : _snd.Buffer.Count;

    /// <summary>
    /// The bytes a write puts in one chunk (Linux's tcp_xmit_size_goal): a GSO packet's worth, at most
    /// half the largest window the peer has offered, in whole segments.
    /// </summary>
    private int WriteChunk
    {
        get
        {
            const int gsoMaxSize = 65536;
            int mss = Math.Max(1, _snd.Mss);
            long largest = _snd.MaxWnd;
            long cutoff = largest > 536 ? largest / 2 : largest;
            long goal = cutoff > 0 && gsoMaxSize > cutoff ? Math.Max(cutoff, 68 - 20) : gsoMaxSize;
            return (int)Math.Max(goal / mss * mss, mss);
        }
    }

    /// <summary>
    /// A write as Linux's tcp_sendmsg makes it, chunk by chunk (<see cref="WriteChunk"/>): the chunk being
    /// filled is topped up whatever the limits; a new one starts only while the queue is under its limits
    /// (sk_stream_memory_free: the send buffer's memory, and TCP_NOTSENT_LOWAT's unsent bytes); a full
    /// chunk goes out at once (tcp_push_one), so what the window takes of it no longer counts as unsent and
    /// its unsent rest is the chunk topped up next. So a write may queue up to a chunk past SO_SNDBUF.
    /// </summary>
    private int WriteInChunks(ReadOnlySpan<byte> data, TimeSpan now)
    {
        var memory = _snd.Memory ??= new SendMemory();
        bool linux = _o.SendBufferLikeLinux;
        int taken = 0, chunk = WriteChunk;
        while (taken < data.Length)
        {
            int tail = memory.Tail(_snd.Max, _snd.DataEnd);
            if (tail >= chunk || tail == 0)
            {
                if (!QueueHasRoom(wake: false)) break;
                memory.StartChunk(_snd.DataEnd);
                tail = 0;
            }
            int want = Math.Min(chunk - tail, data.Length - taken);
            if (linux && _snd.Buffer.Free < want) _snd.Buffer.Resize(Math.Max(_snd.Buffer.Count + want, 2 * _snd.Buffer.Capacity));
            int n = _snd.Buffer.Write(data.Slice(taken, want));
            taken += n;
            if (n < want) break; // the byte ring is full
            if (tail + n >= chunk && State is TcpState.Established or TcpState.CloseWait) Output(now);
        }
        return taken;
    }

    /// <summary>
    /// Linux's sk_stream_memory_free (and, to wake a writer, __sk_stream_is_writeable): the queue is under
    /// SO_SNDBUF, and fewer than TCP_NOTSENT_LOWAT bytes wait unsent (half as many to wake a writer).
    /// </summary>
    private bool QueueHasRoom(bool wake) =>
        (_o.SendBufferLikeLinux ? _snd.MemoryRoom > 0 : _snd.Buffer.Free > 0)
        && (NotSentLowWater is not int lw || (wake ? 2 * Unsent : Unsent) < lw);

    /// <summary>
    /// The send buffer has room to wake a writer (sk_stream_wspace at least sk_stream_min_wspace): the
    /// room left at least half of what is queued, counted as the buffer counts (bytes, or Linux's memory).
    /// </summary>
    private bool BufferWriteable => _o.SendBufferLikeLinux
        ? _snd.MemoryRoom > 0 && _snd.MemoryRoom >= _snd.QueuedMemory / 2
        : _snd.Buffer.Free > 0 && _snd.Buffer.Free >= _snd.Buffer.Count / 2;

    /// <summary>
    /// Room to write as Linux's poll and write-space wake-up judge it (__sk_stream_is_writeable with
    /// wake): free space at least half of what is queued, and unsent bytes under half the low-water mark.
    /// </summary>
    public bool WriteSpaceAvailable => BufferWriteable && QueueHasRoom(wake: true);

    /// <summary>
    /// SO_SNDBUF as it stands: the byte ring's size, or under <see cref="ConnectionOptions.SendBufferLikeLinux"/>
    /// Linux's sk_sndbuf, which autotuning raises (tcp_sndbuf_expand) until the application sets it.
    /// </summary>
    public int SendBufferSize => _o.SendBufferLikeLinux ? _snd.BufferLimit : _snd.Buffer.Capacity;

    /// <summary>
    /// TCP segmentation offload: the host's device takes segments up to this many bytes and cuts them
    /// at the MSS (0: every segment is MSS-sized). A burst then costs one pass through the sender.
    /// </summary>
    public int SegmentationOffload
    {
        get => _snd.SegmentationOffload;
        init => _snd.SegmentationOffload = value;
    }

    /// <summary>TCP_NODELAY: true turns Nagle's algorithm off, and sends what it was holding back.</summary>
    public bool NoDelay => !_snd.Nagle;

    /// <summary>Sets TCP_NODELAY; turning it on sends what Nagle's algorithm was holding back.</summary>
    public void SetNoDelay(bool on, TimeSpan now)
    {
        using var _ = Enter();
        _snd.Nagle = !on;
        if (on) Push(now);
    }

    /// <summary>
    /// TCP_QUICKACK as Linux reads it: true unless the connection is in pingpong (interactive) mode, where
    /// ACKs wait for a reply to carry them (<see cref="ConnectionOptions.PingPongThreshold"/>).
    /// </summary>
    public bool QuickAck => !_rcv.InPingPong;

    /// <summary>
    /// TCP_QUICKACK as Linux applies it (__tcp_sock_set_quickack): off enters pingpong mode, so ACKs are
    /// delayed; on leaves it, and a delayed ACK owed goes now if nothing waits unread or more than a
    /// segment is unacknowledged (tcp_cleanup_rbuf with ICSK_ACK_PUSHED). Profiles without pingpong
    /// (no <see cref="ConnectionOptions.PingPongThreshold"/>) have no mode to enter.
    /// </summary>
    public void SetQuickAck(bool on, TimeSpan now)
    {
        using var _ = Enter();
        if (!on)
        {
            if (_o.PingPongThreshold is int threshold) _rcv.PingPong = threshold;
            return;
        }
        _rcv.PingPong = 0;
        if (State is TcpState.Established or TcpState.CloseWait && _delAckAt != Never
            && (_rcv.Buffer.Count == 0 || _rcv.MoreThanOneFullSegmentUnacked))
            SendAck(now);
    }

    /// <summary>SO_KEEPALIVE: are keep-alive probes on (the options' value until set on the connection)?</summary>
    public bool KeepAlive => KeepAliveOn;

    /// <summary>
    /// SO_KEEPALIVE on an open connection, as Linux applies it: turning it on arms the timer a whole
    /// idle time from now; turning it off stops it.
    /// </summary>
    public void SetKeepAlive(bool on, TimeSpan now)
    {
        using var _ = Enter();
        var k = KeepAliveNow;
        if (k.On == on) return;
        _keepAliveSet = k with { On = on };
        if (!State.IsSynchronized() || State == TcpState.TimeWait) return;
        _keepAliveAt = on ? now + k.Idle : Never;
    }

    /// <summary>
    /// TCP_KEEPIDLE, TCP_KEEPINTVL and TCP_KEEPCNT on an open connection (null leaves one as it is). A
    /// new idle time counts from the last segment heard, as Linux's does: a connection already quiet
    /// longer than it probes at once.
    /// </summary>
    public void SetKeepAliveTimes(TimeSpan? idle, TimeSpan? interval, int? count, TimeSpan now)
    {
        if (idle <= TimeSpan.Zero || interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(idle <= TimeSpan.Zero ? nameof(idle) : nameof(interval), "keep-alive times are positive");
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "at least one probe");
        using var _ = Enter();
        var k = KeepAliveNow;
        _keepAliveSet = k with { Idle = idle ?? k.Idle, Interval = interval ?? k.Interval, Count = count ?? k.Count };
        if (idle is TimeSpan i && k.On && State.IsSynchronized() && State is not (TcpState.TimeWait or TcpState.SynReceived))
        {
            var due = _heardAt + i;
            _keepAliveAt = due > now ? due : now;
        }
    }

    // Rare (a setsockopt, a keep-alive timeout): it may allocate. Arrivals read the two below, which do not.
    private KeepAliveSettings KeepAliveNow => _keepAliveSet ?? new KeepAliveSettings(_o.KeepAlive, _o.KeepAliveIdle, _o.KeepAliveInterval, _o.KeepAliveCount);

    private bool KeepAliveOn => _keepAliveSet?.On ?? _o.KeepAlive;

    private TimeSpan KeepAliveIdle => _keepAliveSet?.Idle ?? _o.KeepAliveIdle;

    private sealed record KeepAliveSettings(bool On, TimeSpan Idle, TimeSpan Interval, int Count);

    /// <summary>TCP_CORK: while set, only full segments go; lifting it sends the rest.</summary>
    public bool Corked => _snd.Corked;

    /// <summary>Sets TCP_CORK; lifting it sends the rest.</summary>
    public void SetCork(bool on, TimeSpan now)
    {
        using var _ = Enter();
        _snd.Corked = on;
        if (!on) Push(now);
    }

    /// <summary>SO_SNDBUF on an open connection: false when it would be smaller than what is queued. The size is the application's from then on (no autotuning).</summary>
    public bool TrySetSendBufferSize(int bytes)
    {
        using var _ = Enter();
        if (_o.SendBufferLikeLinux)
        {
            // sk_sndbuf bounds what new writes may start; what is queued already stays.
            _snd.BufferLimit = bytes;
            _snd.BufferLocked = true;
            return true;
        }
        if (!_snd.Buffer.Resize(bytes)) return false;
        _snd.BufferLocked = true;
        return true;
    }

    private void Push(TimeSpan now)
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        _snd.Push(now);
        NoteSenderLimits(now);
    }

    /// <summary>Copies received in-order bytes without consuming them (MSG_PEEK).</summary>
    public int Peek(Span<byte> dest) => _rcv.Buffer.Peek(0, dest);

    /// <summary>
    /// shutdown(SHUT_RD): the application reads no more. Data still arrives and is acknowledged while the
    /// connection is open; once our FIN is out (FIN-WAIT-1, FIN-WAIT-2) new data resets it, as after
    /// close() (<see cref="ConnectionOptions.ResetDataAfterReceiveShutdown"/>).
    /// </summary>
    public void ShutdownReceive() => _receiveShutdown = true;

    /// <summary>
    /// CLOSE in RFC 9293's sense: no more data from this side (half-close). A FIN follows the queued
    /// data; the connection can still receive until the peer closes too.
    /// </summary>
    public TcpError Shutdown(TimeSpan now)
    {
        using var _ = Enter();
        switch (State)
        {
            case TcpState.Closed:
                return Error != TcpError.None ? Error : TcpError.ConnectionDoesNotExist;
            case TcpState.Listen:
            case TcpState.SynSent:
                EnterClosed("user CLOSE", TcpError.None);
                return TcpError.None;
            case TcpState.SynReceived:
                if (_snd.FinQueued) return TcpError.ConnectionClosing;
                _snd.FinQueued = true; // sent once ESTABLISHED (RFC 9293 3.10.4)
                return TcpError.None;
            case TcpState.Established:
                _snd.FinQueued = true;
                SetState(TcpState.FinWait1, "user CLOSE");
                Output(now);
                return TcpError.None;
            case TcpState.CloseWait:
                _snd.FinQueued = true;
                SetState(TcpState.LastAck, "user CLOSE");
                Output(now);
                return TcpError.None;
            default:
                return TcpError.ConnectionClosing;
        }
    }

    /// <summary>
    /// Full close, as a socket's close(): the application neither sends nor reads any more. Unread
    /// received data makes it a reset (RFC 1122 4.2.2.13, as Linux does); data that arrives later is
    /// answered with RST; FIN-WAIT-2 is bounded by <see cref="ConnectionOptions.FinWait2Timeout"/>.
    /// </summary>
    public TcpError Close(TimeSpan now)
    {
        using var _ = Enter();
        if (_o.ResetOnCloseWithUnreadData && _rcv.Buffer.Count > 0 && State.IsSynchronized() && State != TcpState.TimeWait)
        {
            SendAbortReset(now);
            _rcv.Buffer.Discard(_rcv.Buffer.Count);
            EnterClosed("user CLOSE with unread data: RST", TcpError.None);
            return TcpError.None;
        }
        _rcv.Buffer.Discard(_rcv.Buffer.Count);
        _orphaned = true;
        _snd.CountAnsweredProbes = _o.OrphanRetries is not null; // nobody will read what the peer holds us to: answers no longer buy time
        if (State == TcpState.FinWait2 && FinWait2Timeout < TimeSpan.Zero)
        {
            // Linux's tcp_close with linger2 < 0: no FIN-WAIT-2 for an orphan, the connection is reset.
            SendAbortReset(now);
            EnterClosed("user CLOSE in FIN-WAIT-2, no FIN-WAIT-2 time: RST", TcpError.None);
            return TcpError.None;
        }
        var result = _snd.FinQueued ? TcpError.None : Shutdown(now);
        if (State == TcpState.FinWait2) OrphanedInFinWait2(now);
        return result == TcpError.ConnectionClosing ? TcpError.None : result;
    }

    /// <summary>ABORT: send RST where the peer has a synchronized connection, and delete the TCB.</summary>
    public void Abort(TimeSpan now)
    {
        using var _ = Enter();
        switch (State)
        {
            case TcpState.SynReceived:
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
                SendAbortReset(now);
                EnterClosed("user ABORT: RST", TcpError.Aborted);
                break;
            case TcpState.Closed:
                break;
            default:
                EnterClosed("user ABORT", TcpError.Aborted);
                break;
        }
        _snd.DropQueued();
        _rcv.Buffer.Discard(_rcv.Buffer.Count);
    }

    /// <summary>
    /// The reply of a host that has no connection for a segment (RFC 9293 3.10.7.1, state CLOSED):
    /// RST for anything but a RST. Returns false when nothing is to be sent.
    /// </summary>
    public static bool ResetForUnknownSegment(in TcpHeader seg, int payloadLength, out TcpHeader reset)
    {
        reset = default;
        if (seg.Flags.Has(TcpFlags.Rst)) return false;
        reset.SourcePort = seg.DestinationPort;
        reset.DestinationPort = seg.SourcePort;
        if (!seg.Flags.Has(TcpFlags.Ack))
        {
            reset.Seq = new SeqNum(0);
            reset.Ack = seg.Seq + SegmentLength(seg.Flags, payloadLength);
            reset.Flags = TcpFlags.Rst | TcpFlags.Ack;
        }
        else
        {
            reset.Seq = seg.Ack;
            reset.Flags = TcpFlags.Rst;
        }
        return true;
    }

    /// <summary>Picks the ISS (RFC 6528) and starts the send sequence space after the SYN.</summary>
    private void ChooseIss(TimeSpan now)
    {
        _snd.Start(_isnGenerator.Next(Tuple, now));
        _tsOffset = _isnGenerator.TimestampOffset(Tuple);
    }

    internal static int SegmentLength(TcpFlags flags, int payloadLength) =>
        payloadLength + (flags.Has(TcpFlags.Syn) ? 1 : 0) + (flags.Has(TcpFlags.Fin) ? 1 : 0);

    // ---------------------------------------------------------------- state and events

    private void SetState(TcpState to, string cause)
    {
        var from = State;
        if (from == to) return;
        State = to;
        _host.StateChanged(this, from, to, cause);
    }

    private void EnterClosed(string cause, TcpError error)
    {
        ClearTimers();
        _rcv.DropOutOfOrder();
        Error = error;
        SetState(TcpState.Closed, cause);
        Raise(error == TcpError.None ? ConnectionEvent.Closed : ConnectionEvent.Failed, error);
    }

    /// <summary>Buffer storage held by both rings: what counts against the host's budget.</summary>
    internal int BufferBytes => _snd.Buffer.StorageBytes + _rcv.Buffer.StorageBytes;
    /// <summary>What the host was last told this connection holds.</summary>
    internal int AccountedBufferBytes => _accountedBytes;

    private void AccountBuffers()
    {
        int now = BufferBytes;
        if (now == _accountedBytes) return;
        int delta = now - _accountedBytes;
        _accountedBytes = now;
        _host.BufferBytesChanged(this, delta);
    }

    private void Raise(ConnectionEvent e, TcpError error = TcpError.None) => _pendingEvents.Enqueue(e, error);

    /// <summary>
    /// Marks an input being processed; events raised meanwhile are delivered when the outermost input
    /// finishes, so the user's reaction (say, a close on end of stream) never interleaves with it.
    /// </summary>
    private EventScope Enter()
    {
        _depth++;
        return new EventScope(this);
    }

    private readonly struct EventScope(Connection c) : IDisposable
    {
        public void Dispose()
        {
            if (--c._depth > 0) return;
            c._depth++;
            try
            {
                c.AccountBuffers();
                while (c._pendingEvents.TryDequeue(out var pe)) c._host.Notify(c, pe.Event, pe.Error);
            }
            finally
            {
                c._depth--;
            }
        }
    }
}
