using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The sending half of a connection: the send sequence space (RFC 9293 3.3.1, with BSD's SND.MAX),
/// the send buffer (everything from SND.UNA on, so it is also the retransmission queue), the RTO
/// (RFC 6298) and RTT timing, segmentation under Nagle and silly-window avoidance, and every deadline
/// it arms: retransmission, persist (zero-window probes with their backoff), and, through its
/// <see cref="RackTlp"/>, the tail loss probe and RACK's reordering timer. What happens once loss is
/// suspected is a <see cref="LossRecovery"/>'s to decide; how much may be in flight, the
/// <see cref="ICongestionControl"/>'s to say.
/// </summary>
internal sealed class Sender
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private readonly ConnectionOptions _o;
    private readonly ISegmentOutput _output;

    // Minshall's Nagle: the end of the last sub-MSS segment sent.
    private bool _smallSent;
    private SeqNum _smallEnd;

    // RTT measured by timing one segment at a time, when timestamps are not in use (Karn's rule).
    private bool _timing;
    private SeqNum _timedSeq;

    // Made at the first sign of loss, and when data first flows: an idle connection pays for neither.
    private LossRecovery? _recovery;
    private RackTlp? _detection;

    // RFC 7661 as Linux keeps it (tcp_cwnd_validate): was the window in use over the last round?
    private TimeSpan _lastDataSentAt = Never; // for slow start after idle, and tcp_info
    private bool _isCwndLimited;
    private uint _maxFlight;
    private SeqNum _cwndUsageSeq;

    private bool _rearmProbe; // new data went out, or SND.UNA moved: the probe timer starts again

    public Sender(ConnectionOptions options, ISegmentOutput output)
    {
        _o = options;
        _output = output;
        Nagle = options.Nagle;
        Buffer = new ByteRing(options.SendBufferSize);
        BufferLimit = options.SendBufferSize;
        if (options.SendBufferLikeLinux) Memory = new SendMemory();
        Rto = new RtoEstimator(options);
        Congestion = options.CongestionControl switch
        {
            CongestionControlAlgorithm.Cubic => new Cubic(options.InitialWindowSegments, LargestSendBuffer(options), options.HyStart, options.SlowStartByBytesAcked),
            _ => new NewReno(options.InitialWindowSegments, LargestSendBuffer(options), options.SlowStartByBytesAcked),
        };
    }

    /// <summary>Bytes from SND.UNA on: queued by the user, sent or not, until the peer acknowledges them.</summary>
    public ByteRing Buffer;
    public RtoEstimator Rto;
    public ICongestionControl Congestion { get; }
    public int TailLossProbes => _detection?.TailLossProbes ?? 0;
    /// <summary>Ranges the peer has SACKed (bounded by the scoreboard, whatever the peer sends).</summary>
    public int ScoreboardRanges => Scoreboard?.Count ?? 0;
    /// <summary>When data last went out (new or again); <see cref="TimeSpan.MaxValue"/> before any.</summary>
    public TimeSpan LastDataSentAt => _lastDataSentAt;
    /// <summary>Entries in RACK's record of segments in flight (bounded by the segments in flight, whatever the peer SACKs).</summary>
    public int SentSegmentCount => _detection?.Sent?.Count ?? 0;

    /// <summary>Loss recovery, made at its first use (the variant the options choose).</summary>
    public LossRecovery Recovery => _recovery ??= _o.ProportionalRateReduction ? new SackRecovery(this, _o) : new NewRenoRecovery(this, _o);
    /// <summary>RACK and the tail loss probe, when data has flowed.</summary>
    public RackTlp? Detection => _detection;
    private RackTlp Detect => _detection ??= new RackTlp(this, _o);
    public SackScoreboard? Scoreboard => _recovery?.Scoreboard;

    public SeqNum Iss { get; private set; }
    public SeqNum Una { get; set; }
    /// <summary>SND.NXT: goes back to SND.UNA when the retransmission timer fires (go-back-N).</summary>
    public SeqNum Nxt { get; set; }
    /// <summary>The highest sequence number sent plus one: an ACK for data sent before a rewind is still recognised.</summary>
    public SeqNum Max { get; private set; }
    public SeqNum Wl1 { get; set; }
    public SeqNum Wl2 { get; set; }
    /// <summary>SND.WND, scaled.</summary>
    public uint Wnd { get; set; }
    /// <summary>The largest window the peer has offered (RFC 5961's MAX.SND.WND, and the sender's SWS rule).</summary>
    public uint MaxWnd { get; set; }
    /// <summary>The sequence number of the first byte in the send buffer.</summary>
    public SeqNum BufferSeq { get; private set; }
    /// <summary>The user has closed the sending direction: a FIN follows the data.</summary>
    public bool FinQueued { get; set; }
    public int Mss { get; set; }
    /// <summary>The peer's window scale (RFC 7323).</summary>
    public byte Shift { get; set; }
    public bool SackOk { get; set; }
    /// <summary>The largest segment the host's device cuts for us (TSO); 0: MSS-sized segments only.</summary>
    public int SegmentationOffload { get; set; }

    private RecordEnds? _records; // MSG_EOR: null until the application marks a record

    /// <summary>MSG_EOR: what is queued now ends a record; the next byte starts a segment of its own.</summary>
    public void EndRecord() => (_records ??= new RecordEnds()).Add(DataEnd);

    /// <summary>The application set SO_SNDBUF: the buffer is its size from then on.</summary>
    public bool BufferLocked { get; set; }

    /// <summary>
    /// Under <see cref="ConnectionOptions.SendBufferLikeLinux"/>: how the queue is cut into socket
    /// buffers, for <see cref="QueuedMemory"/>; null when the buffer counts bytes only.
    /// </summary>
    public SendMemory? Memory;

    /// <summary>Linux's sk_sndbuf (<see cref="ConnectionOptions.SendBufferLikeLinux"/>): the bound on <see cref="QueuedMemory"/>.</summary>
    public int BufferLimit { get; set; }

    /// <summary>The peer's MSS as the SYN gave it, clamped (Linux's rx_opt.mss_clamp): sizes the send buffer's autotuning.</summary>
    public int MssClamp { get; set; }

    /// <summary>Linux's sk_wmem_queued: the bytes from SND.UNA on and the socket buffers that hold them.</summary>
    public long QueuedMemory => Buffer.Count + (long)(Memory?.Buffers ?? 0) * SendMemory.BufferCost;

    /// <summary>Linux's sk_stream_wspace: what the limit leaves of the queue's memory (negative past it).</summary>
    public long MemoryRoom => BufferLimit - QueuedMemory;

    /// <summary>Everything queued is dropped (a reset, an abort, back to LISTEN): bytes and their buffers.</summary>
    public void DropQueued()
    {
        Buffer.Discard(Buffer.Count);
        Memory?.Clear();
    }

    /// <summary>
    /// Linux's tcp_sndbuf_expand: room for twice the larger of the congestion window and ten segments
    /// (Fast Recovery's need, with a cushion), each segment costed as the worst case of one socket buffer
    /// with a power-of-two head; never shrinks, at most the tcp_wmem maximum.
    /// </summary>
    public void ExpandLimitLikeLinux()
    {
        if (_o.SendBufferMax is not int max) return; // the application chose the size
        int mss = Math.Max(Math.Max(MssClamp, Mss), 1);
        long perMss = (long)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)(mss + LinuxMaxTcpHeader + LinuxSharedInfo)) + LinuxSkbStruct;
        long segments = Math.Max(Math.Max(10, Congestion.Window / (long)Math.Max(Mss, 1)), Reordering + 1);
        long wanted = 2 * segments * perMss;
        if (BufferLimit < wanted) BufferLimit = (int)Math.Min(wanted, Math.Max(max, BufferLimit));
    }

    // x86-64 sizes in tcp_sndbuf_expand's sum: MAX_TCP_HEADER, the aligned skb_shared_info and sk_buff.
    private const int LinuxMaxTcpHeader = 256, LinuxSharedInfo = 320, LinuxSkbStruct = 256;

    /// <summary>The congestion window's cap is twice the largest the send buffer may become.</summary>
    private static int LargestSendBuffer(ConnectionOptions o) => Math.Max(o.SendBufferSize, o.SendBufferMax ?? 0);

    /// <summary>
    /// Send-buffer autotuning (Linux's tcp_sndbuf_expand, when tcp_should_expand_sndbuf agrees): the
    /// application found the buffer full while the congestion window still had room, so the buffer,
    /// not the network, held the sender back. It grows to twice the window (at least doubling, so a
    /// long transfer copies its buffer a few times, not once an ACK), up to <see cref="ConnectionOptions.SendBufferMax"/>.
    /// </summary>
    public void ExpandBuffer()
    {
        if (_o.SendBufferMax is not int max || BufferLocked || Buffer.Capacity >= max) return;
        // Either window being full means the network, not the buffer, holds the sender back (the peer's
        // window too: a peer that closes it must not make the sender take more of the application's data).
        if (Nxt < DataEnd || Flight >= Math.Min(Congestion.Window, Wnd)) return;
        long want = Math.Min(max, Math.Max(2L * Congestion.Window, 2L * Buffer.Capacity));
        Buffer.Resize((int)want);
    }
    /// <summary>Nagle's algorithm (TCP_NODELAY off); starts from the options.</summary>
    public bool Nagle { get; set; }
    /// <summary>TCP_CORK: only full segments go until it is lifted (or the FIN ends the data).</summary>
    public bool Corked { get; set; }
    /// <summary>MSG_MORE: the application said more data follows the last write: it waits like corked data and carries no PSH.</summary>
    public bool MoreComing { get; set; }
    private bool _pushing; // one output that ignores cork and Nagle (TCP_NODELAY set, cork lifted)
    /// <summary>False once timestamps are agreed: every ACK then measures the round trip.</summary>
    public bool TimeNewSegments { get; set; } = true;
    public TimeSpan RetransmitAt { get; private set; } = Never;
    public TimeSpan PersistAt { get; private set; } = Never;
    /// <summary>When the tail loss probe fires; never while nothing is in flight, in recovery, or a probe is out.</summary>
    public TimeSpan ProbeAt => _detection?.ProbeAt ?? Never;
    /// <summary>When RACK's reordering timer fires.</summary>
    public TimeSpan ReorderTimerAt => _detection?.TimerAt ?? Never;
    /// <summary>Zero-window probes sent since the window last opened (or was last answered).</summary>
    public int PersistProbes { get; private set; }
    /// <summary>Set once orphaned (with orphan retries on): a probe the peer answers with a shut window still counts.</summary>
    public bool CountAnsweredProbes { get; set; }
    /// <summary>Data or FIN segments sent again.</summary>
    public long RetransmittedSegments { get; private set; }

    /// <summary>SACK blocks ignored: about nothing in flight, or with no room left on the scoreboard.</summary>
    public long SackBlocksRefused => _recovery?.SackBlocksRefused ?? 0;
    public bool InFastRecovery => _recovery?.InRecovery == true;
    /// <summary>After a retransmission timeout, until SND.UNA passes what was outstanding then (Linux's Loss state).</summary>
    public bool InLossRecovery => _recovery?.InLoss == true;
    /// <summary>An ECN echo's window reduction is under way (PRR's CWR).</summary>
    public bool InCongestionWindowReduction => _recovery?.InCongestionWindowReduction == true;
    /// <summary>Duplicate ACKs in a row.</summary>
    public int DuplicateAcks => _recovery?.DupAcks ?? 0;
    /// <summary>Bytes the peer has acknowledged.</summary>
    public long BytesAcked { get; private set; }

    /// <summary>
    /// Counts our SYN in <see cref="BytesAcked"/> or takes it out, as Linux's bytes_acked has it: an
    /// active open counts the SYN the SYN-ACK acknowledges; a passive open's socket begins past its
    /// SYN-ACK, so the ACK that completes the handshake acknowledges nothing.
    /// </summary>
    public void CountSyn(int delta) => BytesAcked += delta;

    /// <summary>Bytes above SND.UNA the peer has SACKed.</summary>
    public int SackedBytes => _recovery?.SackedBytes ?? 0;

    /// <summary>Whether RACK keeps the books: on, with SACK agreed.</summary>
    public bool Racking => _o.Rack && SackOk;

    /// <summary>Bytes taken as lost, resent since or not (Linux's lost_out).</summary>
    public long LostBytes => _recovery?.LostBytes ?? (Racking && _detection?.Sent is { } sent ? sent.LostBytes : 0);

    /// <summary>Resent bytes still unacknowledged (Linux's retrans_out).</summary>
    public long RetransmittedOutstanding => _recovery?.RetransmittedOutstanding ?? (Racking && _detection?.Sent is { } sent ? sent.ResentBytes : 0);

    /// <summary>How far out of order the peer's deliveries have come, in segments (3 until seen otherwise).</summary>
    public int Reordering => _detection?.Reordering ?? LossRecovery.DupAckThreshold;
    public int ReorderingEvents => _detection?.ReorderingEvents ?? 0;

    /// <summary>Fast recoveries the peer's D-SACKs proved unneeded, and undone.</summary>
    public int SpuriousRecoveries => _recovery?.SpuriousRecoveries ?? 0;

    /// <summary>Timeouts that proved spurious and were undone.</summary>
    public int SpuriousTimeouts => _recovery?.SpuriousTimeouts ?? 0;

    /// <summary>When the timed segment (or the SYN) went out.</summary>
    public TimeSpan TimingStart { get; private set; }

    public SeqNum DataEnd => BufferSeq + Buffer.Count;
    /// <summary>Our FIN is queued and acknowledged.</summary>
    public bool FinAcked => FinQueued && Una == DataEnd + 1;
    /// <summary>Our FIN is the last thing sent.</summary>
    public bool FinSent => FinQueued && Max == DataEnd + 1;
    public uint Flight => (uint)(Max - Una);

    /// <summary>The ISS is chosen: the send sequence space starts after the SYN.</summary>
    public void Start(SeqNum iss)
    {
        Iss = iss;
        Una = iss;
        Nxt = iss + 1;
        Max = Nxt;
        BufferSeq = iss + 1;
    }

    /// <summary>Back to LISTEN: nothing sent, nothing queued.</summary>
    public void Forget()
    {
        Iss = Una = Nxt = Max = BufferSeq = default;
        DropQueued();
        FinQueued = false;
        _recovery?.Forget();
        _detection = null;
    }

    // ------------------------------------------------------------------ the sender's deadlines

    /// <summary>The earliest of the sender's deadlines: retransmission, persist, tail loss probe, reordering.</summary>
    public TimeSpan NextDeadline
    {
        get
        {
            var t = RetransmitAt;
            if (PersistAt < t) t = PersistAt;
            if (ProbeAt < t) t = ProbeAt;
            if (ReorderTimerAt < t) t = ReorderTimerAt;
            return t;
        }
    }

    public void ArmRetransmission(TimeSpan now) => RetransmitAt = now + Rto.Rto;

    /// <summary>The timer starts again from now (RFC 6298 5.3: on an ACK of new data; behind a probe or a resent head).</summary>
    public void RestartRetransmissionTimer(TimeSpan now) => RetransmitAt = now + Rto.Rto;

    public void StopRetransmissionTimer() => RetransmitAt = Never;

    /// <summary>Arms the retransmission timer for <paramref name="at"/>, whatever the RTO says.</summary>
    public void ArmRetransmissionAt(TimeSpan at) => RetransmitAt = at;

    /// <summary>The user timeout ends at <paramref name="latest"/>: the timer fires then at the latest (Linux's tcp_clamp_rto_to_user_timeout).</summary>
    public void ClampRetransmissionTimer(TimeSpan latest, TimeSpan now)
    {
        if (RetransmitAt != Never && RetransmitAt > latest) RetransmitAt = latest > now ? latest : now;
    }

    /// <summary>
    /// Whether <paramref name="timer"/> is due at <paramref name="now"/>; a due timer is disarmed, for its
    /// handler to re-arm. Retransmission, persist and the tail loss probe.
    /// </summary>
    public bool TakeDue(TcpTimer timer, TimeSpan now)
    {
        switch (timer)
        {
            case TcpTimer.Retransmission when RetransmitAt <= now:
                RetransmitAt = Never;
                return true;
            case TcpTimer.Persist when PersistAt <= now:
                PersistAt = Never;
                return true;
            case TcpTimer.TailLossProbe when ProbeAt <= now:
                _detection!.CancelProbeTimer();
                return true;
            default:
                return false;
        }
    }

    /// <summary>A zero-window probe went out: the next one after the RTO backed off once more per probe.</summary>
    public void ZeroWindowProbeSent(TimeSpan now)
    {
        PersistProbes++;
        PersistAt = now + Rto.PersistInterval(PersistProbes, _o);
    }

    /// <summary>Every sender timer stops (the connection closed, or entered TIME-WAIT).</summary>
    public void StopTimers()
    {
        RetransmitAt = PersistAt = Never;
        if (_detection is { } d)
        {
            d.CancelProbeTimer();
            d.TimerAt = Never;
        }
    }

    public void StartTiming(SeqNum seq, TimeSpan now)
    {
        _timing = true;
        _timedSeq = seq;
        TimingStart = now;
    }

    /// <summary>Karn: a retransmitted segment gives no RTT sample.</summary>
    public void StopTiming() => _timing = false;

    /// <summary>
    /// The sequence number of a bare ACK: the highest sent (SND.MAX, Linux's snd_nxt), so that after a
    /// go-back-N rewind an ACK does not look like a step backwards; but never past the peer's window.
    /// </summary>
    public SeqNum AckSeq(bool handshaking)
    {
        if (handshaking || Wnd == 0 && Max == Una) return Max;
        var windowEnd = Una + Wnd;
        return Max <= windowEnd ? Max : SeqNum.Max(windowEnd, Nxt);
    }

    // ------------------------------------------------------------------ RFC 9293 3.10.7.4 step five, for the sender

    /// <summary>
    /// The ACK field and window of an acceptable segment. <paramref name="timestampRtt"/> is the RTT the
    /// segment's TSecr gives (null: none), <paramref name="hasTimestampEcho"/> whether it had one to give.
    /// Returns how many bytes of data it acknowledged; <paramref name="advanced"/> says SND.UNA moved.
    /// </summary>
    /// <param name="echoedSendMs">When the segment whose timestamp this ACK echoes was sent (ms of the timestamp clock); null without timestamps.</param>
    public int OnAck(in TcpHeader seg, int payloadLength, bool hasTimestampEcho, TimeSpan? timestampRtt, TimeSpan now, out bool advanced, uint? echoedSendMs = null)
    {
        var ack = seg.Ack;
        int dataAcked = 0;
        bool prr = _o.ProportionalRateReduction;
        var unaBefore = Una;
        int sackedBefore = SackedBytes;
        long lostBefore = _recovery?.LostBefore(prr) ?? 0;
        bool retransmittedAcked = _recovery?.AcksRetransmission(ack, prr) == true;
        var priorFack = _detection?.PriorFack(Una) ?? Una;
        SeqNum? reordered = null; // the lowest never-resent segment delivered below what was delivered before
        if (SackOk && seg.Options.SackBlockCount > 0 && Max > Una) Recovery.RecordSacks(in seg.Options, now, ref reordered);
        if (Racking && _detection?.Sent is { Count: > 0 } && ack > Una) _detection.DeliveredByAck(ack, now, Rto.MinRtt, ref reordered);
        if (reordered is SeqNum low) _detection!.Reordered(low, priorFack, Mss);
        // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries nothing, leaves the window as it was.
        bool duplicate = ack == Una && Max > Una && payloadLength == 0
            && (seg.Flags & (TcpFlags.Syn | TcpFlags.Fin)) == 0 && ((uint)seg.Window << Shift) == Wnd;
        advanced = ack > Una;
        if (advanced)
        {
            int acked = ack - Una;
            if (_detection?.ProbeAcknowledged(ack, in seg.Options) == true) Congestion.OnCongestionEcho(Flight, now);
            _rearmProbe = true;
            TimeSpan? sample = null;
            if (_o.RttFromEveryAck && _detection?.Sent is { Count: > 0 } inFlight)
            {
                // Linux times every ACK from the send times of the segments it covers, and prefers
                // that to the timestamp echo (which it takes only when Karn's rule leaves no sample).
                sample = inFlight.FirstAckedSendTime(ack) is TimeSpan sentAt ? now - sentAt : hasTimestampEcho ? timestampRtt : null;
                if (_timing && ack > _timedSeq) _timing = false;
            }
            else if (hasTimestampEcho)
            {
                sample = timestampRtt;
            }
            else if (_timing && ack > _timedSeq)
            {
                _timing = false;
                sample = now - TimingStart;
            }
            if (sample is TimeSpan rtt) Rto.Sample(rtt, _o);
            _recovery?.BeforeAdvance(echoedSendMs);
            Una = ack;
            BytesAcked += acked;
            if (_recovery is { } recovery) recovery.Advanced();
            else if (Nxt < Una) Nxt = Una;
            dataAcked = Math.Clamp(ack - BufferSeq, 0, Buffer.Count);
            if (dataAcked > 0)
            {
                Buffer.Discard(dataAcked);
                BufferSeq += dataAcked;
            }
            Memory?.Acked(Una);
            Scoreboard?.Advance(Una);
            _detection?.Sent?.AckedTo(Una);
            if (_recovery?.AfterAdvance(acked, now, prr) == true)
            {
                // An episode's ACK: recovery or the ECN reduction sets the window, not growth.
            }
            else if (dataAcked > 0)
            {
                // SYN and FIN do not open the window; neither does a window the sender has not been using.
                // Linux counts what this ACK newly delivered (acked or SACKed), so bytes SACKed earlier
                // do not count twice when the cumulative ACK covers them.
                uint grown = _o.SlowStartByBytesAcked ? (uint)Math.Max(0, Math.Min(dataAcked, (Una - unaBefore) + SackedBytes - sackedBefore)) : (uint)dataAcked;
                if (grown > 0) Congestion.OnAck(new AckSample(grown, now, Rto.HasSample ? Rto.Srtt : TimeSpan.Zero, sample, ack, Nxt, CwndLimited));
            }
            if (_recovery is not null) _recovery.DupAcks = 0;
            if (Una == Max) RetransmitAt = Never;
            else RetransmitAt = now + Rto.Rto; // RFC 6298 5.3
        }
        else if (duplicate && (_recovery is not null || _o.FastRetransmit))
        {
            Recovery.OnDuplicateAck(now);
        }
        _recovery?.OnDsack(in seg.Options, ack, now);
        if (Racking && _detection is { Sent: { Count: > 0 } sent } rack && (Scoreboard is { IsEmpty: false } || InFastRecovery || sent.LostBytes > 0))
        {
            // RFC 8985 6.2: losses by time; the first one found may start recovery.
            if (rack.DetectLoss(sent, now, InFastRecovery, SackedBytes / Math.Max(Mss, 1), Rto.MinRtt, Rto.Srtt)) Recovery.LossByTime(now, timer: false);
        }
        if (prr && _recovery is { } r) r.AfterAck((Una - unaBefore) + (long)SackedBytes - sackedBefore, retransmittedAcked, lostBefore, now);
        UpdateWindow(in seg);
        if (Wnd > 0)
        {
            PersistAt = Never;
            PersistProbes = 0;
        }
        else if (PersistAt != Never && !CountAnsweredProbes)
        {
            PersistProbes = 0; // the peer is alive and answering our probes
        }
        return dataAcked;
    }

    /// <summary>The send window moves only on a segment newer than the one that last set it.</summary>
    private void UpdateWindow(in TcpHeader seg)
    {
        if (Wl1 < seg.Seq || (Wl1 == seg.Seq && Wl2 <= seg.Ack)) SetWindow(in seg, scaled: true);
    }

    /// <summary>SND.WND from a segment (a SYN's window is never scaled), and the segment that set it.</summary>
    public void SetWindow(in TcpHeader seg, bool scaled)
    {
        Wnd = scaled ? (uint)seg.Window << Shift : seg.Window;
        MaxWnd = scaled ? Math.Max(MaxWnd, Wnd) : Wnd;
        Wl1 = seg.Seq;
        Wl2 = seg.Ack;
    }

    // ------------------------------------------------------------------ output

    /// <summary>
    /// RFC 3042 limited transmit: on the first and second duplicate ACK (outside recovery) one more
    /// segment of new data each may go out beyond the congestion window, which itself does not change:
    /// with a small window they make the third duplicate ACK that fast retransmit needs, instead of a
    /// wait for the retransmission timer.
    /// </summary>
    private uint LimitedTransmitAllowance => _recovery?.LimitedTransmitAllowance ?? 0;

    /// <summary>
    /// Sends what the windows allow: new data in MSS-sized segments from SND.NXT, then the FIN once
    /// every byte before it has gone. After a retransmission timeout SND.NXT is back at SND.UNA, so
    /// the same loop retransmits (go-back-N), paced by the congestion window.
    /// </summary>
    public void Output(TimeSpan now)
    {
        var maxBefore = Max;
        long retransmittedBefore = RetransmittedSegments;
        if (_o.SlowStartAfterIdle && Una == Max && Nxt < DataEnd && _lastDataSentAt != Never && now - _lastDataSentAt > Rto.Rto) RestartAfterIdle(now);
        if (_recovery?.Output(now) != true) SendWhatTheWindowsAllow(now);
        ValidateWindow(Max != maxBefore || RetransmittedSegments != retransmittedBefore);
        if (Una == Max)
        {
            _detection?.CancelProbeTimer();
        }
        else if (_rearmProbe && _o.TailLossProbe && SackOk)
        {
            Detect.ArmProbe(now);
        }
        _rearmProbe = false;
    }

    /// <summary>Sends what is queued now, small segments included, whatever cork and Nagle would hold back.</summary>
    public void Push(TimeSpan now)
    {
        _pushing = true;
        try
        {
            Output(now);
        }
        finally
        {
            _pushing = false;
        }
    }

    private void SendWhatTheWindowsAllow(TimeSpan now)
    {
        while (true)
        {
            var dataEnd = DataEnd;
            uint window = Math.Min(Wnd, Congestion.Window + LimitedTransmitAllowance);
            var windowEdge = Una + window;
            if (Nxt < dataEnd)
            {
                int unsent = dataEnd - Nxt;
                int allowed = windowEdge - Nxt;
                // A record's end (MSG_EOR) ends the segment too; a segment cut there is not a
                // small one Nagle holds back: more is queued behind it (Linux: TCP_NAGLE_PUSH).
                int toEnd = _records?.After(Nxt, Una) is SeqNum recordEnd ? Math.Min(unsent, recordEnd - Nxt) : unsent;
                // With segmentation offload a burst is one segment of whole MSSs (the device cuts it);
                // only the end of the data (or of a record) may leave a short last piece.
                int chunk = SegmentationOffload > Mss ? SegmentationOffload / Mss * Mss : Mss;
                int len = Math.Min(Math.Min(toEnd, chunk), Math.Max(allowed, 0));
                if (len > Mss && len < toEnd) len = len / Mss * Mss;
                if (len <= 0)
                {
                    if (Wnd == 0 && Una == Max && PersistAt == Never) PersistAt = now + Rto.Rto;
                    return;
                }
                bool last = len == unsent;
                // With offload, data the application says more will follow (MSG_MORE, TCP_CORK) waits to
                // fill its offload segment, as tcp_sendmsg grows an skb to its size goal before it
                // pushes: sent as each write arrived, a download through TUN went out in 4 KB segments
                // (a pipe block each) and ran at a third of the speed.
                if (SegmentationOffload > Mss && last && len < chunk && Nxt >= Max && !_pushing && !FinQueued && (Corked || MoreComing)) return;
                if (len < Mss && Nxt >= Max && !(len == toEnd && toEnd < unsent))
                {
                    // Sender silly window avoidance (RFC 9293 3.8.6.2.1): a window-limited sliver waits
                    // until a full segment or half the largest window the peer offered fits, as long as
                    // an ACK is still to come to wake us (with nothing in flight it goes, or nothing would).
                    if (!last && len < MaxWnd / 2 && Una != Max) return;
                    // Nagle: a small segment waits while earlier data is unacknowledged, unless it ends the
                    // stream. Minshall's variant (Linux) waits only for an earlier *small* segment, so the
                    // tail of a bulk write does not sit out the peer's delayed ACK.
                    bool held = _o.NagleMinshall ? _smallSent && _smallEnd > Una : Una != Max;
                    if (!_pushing && !(last && FinQueued) && (Corked || MoreComing || Nagle && held)) return;
                }
                bool fin = last && FinQueued;
                if (_o.PushEveryGsoPacket && SegmentationOffload <= Mss && (_gsoEnd is not SeqNum end || Nxt >= end))
                    PlanGsoPacket(Math.Min(unsent, Math.Max(allowed, len)));
                SendData(Nxt, len, fin, now);
                continue;
            }
            if (FinQueued && Nxt == dataEnd) SendData(Nxt, 0, fin: true, now);
            return;
        }
    }

    private SeqNum? _gsoEnd; // where the GSO packet of several segments Linux would send ends (PushEveryGsoPacket); null: none under way

    /// <summary>
    /// Linux would send what starts at SND.NXT (at most <paramref name="sendable"/> bytes) as one GSO
    /// packet of up to tso_segs segments, no more than half the congestion window at once
    /// (tcp_cwnd_test), and such a packet carries PSH on its last segment. Sending segment by segment,
    /// remember where it would end when it holds more than one.
    /// </summary>
    private void PlanGsoPacket(int sendable)
    {
        long cwndSegments = Congestion.Window / Mss;
        long room = Math.Min(Math.Max(cwndSegments >> 1, 1), Math.Max(Congestion.Window - (long)Flight, Mss) / Mss);
        long bytes = Math.Min(Math.Min(TsoSegments(), room) * Mss, sendable);
        // A packet is one socket buffer, grown from the next one up to the size wanted (tcp_grow_skb).
        if (Memory is { } memory && _o.SendBufferLikeLinux) bytes = Math.Min(bytes, memory.PacketEnd(Nxt, DataEnd) - Nxt);
        _gsoEnd = bytes > Mss ? Nxt + (int)bytes : null;
    }

    /// <summary>
    /// Linux's tcp_tso_autosize: about a millisecond of the pacing rate (twice cwnd per round trip in
    /// slow start, 1.2 times after), plus 64 KiB halved for every 512 µs of the smallest round trip;
    /// at least two segments, at most 64 KiB.
    /// </summary>
    private long TsoSegments()
    {
        int mss = Math.Max(Mss, 1);
        int least = Math.Max(1, _o.MinTsoSegments);
        if (!Rto.HasSample || Rto.Srtt <= TimeSpan.Zero) return Math.Max(least, 65536 / mss);
        double cwndSegs = Congestion.Window / (double)mss;
        double ratio = Congestion.Window < Congestion.SlowStartThreshold / 2 ? 2.0 : 1.2;
        double rate = mss * Math.Max(cwndSegs, Flight / (double)mss) * ratio / Rto.Srtt.TotalSeconds;
        long bytes = (long)rate >> 10;
        long shift = (long)(Rto.MinRtt.TotalMicroseconds) >> 9;
        if (shift < 32) bytes += 65536L >> (int)shift;
        return Math.Max(least, Math.Min(bytes, 65536) / mss);
    }

    /// <param name="advance">False for a retransmission out of line (fast retransmit): SND.NXT stays where it is.</param>
    public void SendData(SeqNum seq, int len, bool fin, TimeSpan now, bool advance = true)
    {
        var flags = TcpFlags.Ack;
        if (len > 0 && (seq + len == DataEnd && !MoreComing || _records is { } records && records.IsEnd(seq + len))) flags |= TcpFlags.Psh;
        // Linux forces PSH on every GSO packet, so the receiver's GRO flushes (__tcp_transmit_skb).
        // A GSO packet of several segments goes out segment by segment here: it ends where Linux's would.
        bool packetEnds = !(_gsoEnd is SeqNum planned && seq + len < planned);
        if (_o.PushEveryGsoPacket && len > 0 && seq >= Max)
        {
            if (len > Mss || _gsoEnd is SeqNum gsoEnd && seq + len == gsoEnd) flags |= TcpFlags.Psh;
            if (_gsoEnd is SeqNum passed && seq + len >= passed) _gsoEnd = null;
        }
        if (fin) flags |= TcpFlags.Fin;
        // The payload goes out from the send buffer in place; only a stretch that wraps around the
        // ring's end is copied, into a pooled buffer, so no connection keeps a segment-sized copy of its own.
        byte[]? pooled = null;
        if (!Buffer.TryGetContiguous(seq - BufferSeq, len, out var data) && len > 0)
        {
            pooled = System.Buffers.ArrayPool<byte>.Shared.Rent(len);
            Buffer.Peek(seq - BufferSeq, pooled.AsSpan(0, len));
            data = pooled.AsSpan(0, len);
        }
        bool isNew = seq >= Max;
        if (isNew && len > 0 && packetEnds) Memory?.Sent(seq + len, DataEnd);
        if (len > 0)
        {
            _lastDataSentAt = now;
            if (Racking) Detect.OnSent(seq, len, isNew, Max, Mss, now);
        }
        if (!isNew)
        {
            RetransmittedSegments++;
            _recovery?.Retransmitted();
        }
        else if (len > 0 || fin) _rearmProbe = true; // a FIN ending the flight is probed like data (Linux)
        if (isNew && !_timing && TimeNewSegments) StartTiming(seq, now);
        var end = seq + len + (fin ? 1 : 0);
        if (isNew && len > 0 && len < Mss)
        {
            _smallSent = true;
            _smallEnd = seq + len;
        }
        if (advance) Nxt = end;
        if (end > Max) Max = end;
        if (RetransmitAt == Never) RetransmitAt = now + Rto.Rto;
        try
        {
            _output.SendSegment(seq, flags, data, isNew, now);
        }
        finally
        {
            if (pooled is not null) System.Buffers.ArrayPool<byte>.Shared.Return(pooled);
        }
    }

    /// <summary>The retransmission timer fired with data outstanding: back off, shrink the window, and start again from SND.UNA.</summary>
    public void GoBackN(TimeSpan now)
    {
        Recovery.OnTimeout(now);
        ArmRetransmission(now);
    }

    /// <summary>RACK's reordering timer fired: what its window now says is lost; true when recovery has something to send.</summary>
    public bool ReorderTimeout(TimeSpan now)
    {
        if (_detection is not { } rack) return false;
        if (!rack.ReorderTimeout(now, InFastRecovery, SackedBytes / Math.Max(Mss, 1), Rto.MinRtt, Rto.Srtt)) return false;
        if (_o.ProportionalRateReduction) Recovery.LossByTime(now, timer: true);
        return true;
    }

    /// <summary>7.3 of RFC 8985: the tail loss probe's timer fired.</summary>
    public void TailLossProbe(TimeSpan now) => _detection?.TailLossProbe(now);

    /// <summary>An ECN echo under PRR: the window comes down over the next round, nothing resent (Linux's CWR state).</summary>
    public void StartCongestionWindowReduction(TimeSpan now) => Recovery.StartCongestionWindowReduction(now);

    /// <summary>
    /// RFC 5681 4.1 as Linux does it (tcp_cwnd_restart): after an idle time longer than the RTO the
    /// window halves for every RTO idle, down to the restart window (the initial window, or cwnd if
    /// smaller); the threshold keeps three quarters of the old window.
    /// </summary>
    private void RestartAfterIdle(TimeSpan now)
    {
        uint cwnd = Congestion.Window;
        uint restart = Math.Min((uint)(_o.InitialWindowSegments * Mss), cwnd);
        var idle = now - _lastDataSentAt;
        var rto = Rto.Rto > TimeSpan.Zero ? Rto.Rto : TimeSpan.FromSeconds(1);
        while ((idle -= rto) > TimeSpan.Zero && cwnd > restart) cwnd >>= 1;
        Congestion.Restart(Math.Max(cwnd, restart));
    }

    // ------------------------------------------------------------------ RFC 7661 window validation

    /// <summary>Linux's tcp_is_cwnd_limited: the window was full last round, or (in slow start) at least half of it was used.</summary>
    internal bool CwndLimited =>
        !_o.GrowOnlyWhenCwndLimited || _isCwndLimited
        || Congestion.Window < Congestion.SlowStartThreshold && Congestion.Window < 2u * _maxFlight;

    /// <summary>The congestion window has room for another full segment (Linux's tcp_cwnd_test).</summary>
    internal bool CwndHasRoom => Flight + (uint)Mss <= Congestion.Window;

    /// <summary>After sending: remember how much of the window was used (Linux's tcp_cwnd_validate).</summary>
    private void ValidateWindow(bool sent)
    {
        if (!_o.GrowOnlyWhenCwndLimited) return;
        long pipe = _recovery?.Pipe ?? (long)Flight - (Racking && _detection?.Sent is { } segments ? segments.LostNotResentBytes : 0);
        uint flight = (uint)Math.Max(pipe, 0);
        bool limited = flight + (uint)Mss > Congestion.Window; // no room for another full segment
        if (!sent && !limited) return;
        if (Una >= _cwndUsageSeq || limited || !_isCwndLimited && flight > _maxFlight)
        {
            _isCwndLimited = limited;
            _maxFlight = flight;
            _cwndUsageSeq = Max;
        }
    }
}
