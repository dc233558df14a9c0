using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The sending half of a connection: the send sequence space (RFC 9293 3.3.1, with BSD's SND.MAX),
/// the send buffer (everything from SND.UNA on, so it is also the retransmission queue), the RTO
/// (RFC 6298) and RTT timing, segmentation under Nagle and silly-window avoidance, loss recovery on
/// duplicate ACKs (RFC 5681 3.2, RFC 6582, a SACK scoreboard) and go-back-N after a timeout. How much
/// may be in flight is the <see cref="ICongestionControl"/>'s to say.
/// </summary>
internal sealed class Sender
{
    private const int DupAckThreshold = 3;
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private readonly ConnectionOptions _o;
    private readonly ISegmentOutput _output;

    // Minshall's Nagle: the end of the last sub-MSS segment sent.
    private bool _smallSent;
    private SeqNum _smallEnd;

    // RTT measured by timing one segment at a time, when timestamps are not in use (Karn's rule).
    private bool _timing;
    private SeqNum _timedSeq;

    // Fast recovery.
    private int _dupAcks;
    private bool _inRecovery;
    private SeqNum _recover;      // SND.MAX when recovery began: an ACK past it ends recovery
    private SeqNum _rtxHighest;   // below this, holes have been resent in this recovery
    private ReassemblyQueue? _scoreboard; // ranges above SND.UNA the peer has SACKed (bounded)
    private bool _inLoss;         // after a timeout, until SND.UNA passes _lossRecover
    private SeqNum _lossRecover;
    private ReductionState? _reduction; // RFC 6937 PRR, when on
    private SentSegments? _sent;        // RFC 8985 RACK, when on and SACK agreed
    private Rack? _rack;

    // RFC 7661 as Linux keeps it (tcp_cwnd_validate): was the window in use over the last round?
    private TimeSpan _lastDataSentAt = Never; // for slow start after idle, and tcp_info
    private bool _isCwndLimited;
    private uint _maxFlight;
    private SeqNum _cwndUsageSeq;


    // Tail loss probe (RFC 8985 7).
    private bool _rearmProbe;     // new data went out, or SND.UNA moved: the probe timer starts again
    private bool _probeSent;      // one probe per tail, until SND.UNA moves
    private bool _probeResent;    // the probe resent data (rather than sending new)
    private SeqNum _probeEnd;
    private static readonly TimeSpan WorstCaseDelayedAck = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan MinProbeTimeout = TimeSpan.FromMilliseconds(10);

    public Sender(ConnectionOptions options, ISegmentOutput output)
    {
        _o = options;
        _output = output;
        Nagle = options.Nagle;
        Buffer = new ByteRing(options.SendBufferSize);
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
    /// <summary>When the tail loss probe fires; never while nothing is in flight, in recovery, or a probe is out.</summary>
    public TimeSpan ProbeAt { get; set; } = TimeSpan.MaxValue;
    public int TailLossProbes { get; private set; }
    /// <summary>Ranges the peer has SACKed (bounded by the scoreboard, whatever the peer sends).</summary>
    public int ScoreboardRanges => _scoreboard?.Count ?? 0;
    /// <summary>When data last went out (new or again); <see cref="TimeSpan.MaxValue"/> before any.</summary>
    public TimeSpan LastDataSentAt => _lastDataSentAt;
    /// <summary>Entries in RACK's record of segments in flight (bounded by the segments in flight, whatever the peer SACKs).</summary>
    public int SentSegmentCount => _sent?.Count ?? 0;

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
    public TimeSpan RetransmitAt { get; set; } = Never;
    public TimeSpan PersistAt { get; set; } = Never;
    public int PersistProbes { get; set; }
    /// <summary>Set once orphaned (with orphan retries on): a probe the peer answers with a shut window still counts.</summary>
    public bool CountAnsweredProbes { get; set; }
    /// <summary>Data or FIN segments sent again.</summary>
    public long RetransmittedSegments { get; private set; }

    /// <summary>SACK blocks ignored: about nothing in flight, or with no room left on the scoreboard.</summary>
    public long SackBlocksRefused { get; private set; }
    public bool InFastRecovery => _inRecovery;
    /// <summary>After a retransmission timeout, until SND.UNA passes what was outstanding then (Linux's Loss state).</summary>
    public bool InLossRecovery => _inLoss;
    /// <summary>An ECN echo's window reduction is under way (PRR's CWR).</summary>
    public bool InCongestionWindowReduction => _reduction is { Active: true, Cwr: true };
    /// <summary>Duplicate ACKs in a row.</summary>
    public int DuplicateAcks => _dupAcks;
    /// <summary>Bytes the peer has acknowledged.</summary>
    public long BytesAcked { get; private set; }

    /// <summary>Bytes above SND.UNA the peer has SACKed.</summary>
    public int SackedBytes
    {
        get
        {
            if (_scoreboard is not { } board) return 0;
            int n = 0;
            for (int i = 0; i < board.Count; i++) n += board[i].End - board[i].Start;
            return n;
        }
    }

    /// <summary>Whether RACK keeps the books: on, with SACK agreed.</summary>
    private bool Racking => _o.Rack && SackOk;

    /// <summary>
    /// Bytes taken as lost, resent since or not (Linux's lost_out): with RACK what it marked; else in
    /// fast recovery the holes below the highest SACK; after a timeout everything outstanding then.
    /// </summary>
    public long LostBytes
    {
        get
        {
            if (Racking && _sent is { } sent) return sent.LostBytes;
            if (_inLoss) return Math.Max(0, (Max < _lossRecover ? Max : _lossRecover) - Una);
            return _inRecovery ? HoleBytes(Una) : 0;
        }
    }

    /// <summary>Bytes taken as lost and not resent since: what recovery has still to send again.</summary>
    private long LostNotResentBytes
    {
        get
        {
            if (Racking && _sent is { } sent) return sent.LostNotResentBytes;
            if (_inLoss) return Math.Max(0, (Max < _lossRecover ? Max : _lossRecover) - Nxt);
            if (!_inRecovery) return 0;
            return HoleBytes(_rtxHighest > Una ? _rtxHighest : Una);
        }
    }

    /// <summary>Resent bytes still unacknowledged (Linux's retrans_out).</summary>
    public long RetransmittedOutstanding
    {
        get
        {
            if (Racking && _sent is { } sent) return sent.ResentBytes;
            if (_inLoss) return Math.Max(0, Nxt - Una);
            if (!_inRecovery || _rtxHighest <= Una) return 0;
            return (_rtxHighest - Una) - SackedBelow(_rtxHighest);
        }
    }

    /// <summary>When RACK's reordering timer fires.</summary>
    public TimeSpan ReorderTimerAt => _rack?.TimerAt ?? Never;

    public void StopReorderTimer()
    {
        if (_rack is not null) _rack.TimerAt = Never;
    }

    /// <summary>How far out of order the peer's deliveries have come, in segments (3 until seen otherwise).</summary>
    public int Reordering => _rack?.Reordering ?? DupAckThreshold;
    public int ReorderingEvents => _rack?.ReorderingEvents ?? 0;

    /// <summary>Bytes from <paramref name="from"/> up to the highest SACKed byte that the peer has not SACKed.</summary>
    private int HoleBytes(SeqNum from)
    {
        if (_scoreboard is not { IsEmpty: false } board) return 0;
        SeqNum highest = Una;
        for (int i = 0; i < board.Count; i++) if (board[i].End > highest) highest = board[i].End;
        if (highest <= from) return 0;
        return (highest - from) - (SackedBelow(highest) - SackedBelow(from));
    }

    private int SackedBelow(SeqNum edge)
    {
        if (_scoreboard is not { } board) return 0;
        int n = 0;
        for (int i = 0; i < board.Count; i++)
        {
            var r = board[i];
            if (r.Start >= edge) continue;
            n += (r.End < edge ? r.End : edge) - r.Start;
        }
        return n;
    }
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
        Buffer.Discard(Buffer.Count);
        FinQueued = false;
        _inLoss = false;
        _sent?.Clear();
        _rack = null;
    }

    public void ArmRetransmission(TimeSpan now) => RetransmitAt = now + Rto.Rto;

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
        long lostBefore = prr && _inRecovery ? LostBytes : 0;
        bool retransmittedAcked = prr && _inRecovery && ack > Una && (Racking ? _sent is { ResentBytes: > 0 } && _sent[0].Has(SentSegments.Mark.EverResent) : Una < _rtxHighest);
        var priorFack = _rack?.PriorFack(Una) ?? Una;
        SeqNum? reordered = null; // the lowest never-resent segment delivered below what was delivered before
        if (SackOk && seg.Options.SackBlockCount > 0 && Max > Una) RecordSacks(in seg.Options, now, ref reordered);
        if (Racking && _sent is { Count: > 0 } && ack > Una) DeliveredByAck(ack, now, ref reordered);
        if (reordered is SeqNum low) _rack!.Reordered(low, priorFack, Mss);
        // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries nothing, leaves the window as it was.
        bool duplicate = ack == Una && Max > Una && payloadLength == 0
            && (seg.Flags & (TcpFlags.Syn | TcpFlags.Fin)) == 0 && ((uint)seg.Window << Shift) == Wnd;
        advanced = ack > Una;
        if (advanced)
        {
            int acked = ack - Una;
            if (_probeSent && _probeResent && ack >= _probeEnd && !HasDsack(in seg.Options, ack))
            {
                // RFC 8985 7.4: the resent probe was what the peer lacked: a loss was repaired, and
                // congestion control hears of it as of one found by fast retransmit.
                Congestion.OnCongestionEcho(Flight, now);
            }
            _probeSent = false;
            _rearmProbe = true;
            TimeSpan? sample = null;
            if (hasTimestampEcho)
            {
                sample = timestampRtt;
            }
            else if (_timing && ack > _timedSeq)
            {
                _timing = false;
                sample = now - TimingStart;
            }
            if (sample is TimeSpan rtt) Rto.Sample(rtt, _o);
            if (_inLoss && _reduction is { UndoArmed: true } undo && echoedSendMs is uint echoed && unchecked((int)(echoed - undo.TimeoutMs)) < 0)
                UndoSpuriousTimeout(undo);
            Una = ack;
            BytesAcked += acked;
            if (_inLoss && Una >= _lossRecover) _inLoss = false;
            if (Nxt < Una) Nxt = Una;
            if (_inLoss && _reduction is { FrtoStage: > 0 } frto) ForwardRtoAdvance(frto);
            dataAcked = Math.Clamp(ack - BufferSeq, 0, Buffer.Count);
            if (dataAcked > 0)
            {
                Buffer.Discard(dataAcked);
                BufferSeq += dataAcked;
            }
            _scoreboard?.Advance(Una);
            _sent?.AckedTo(Una);
            if (_inRecovery)
            {
                if (ack >= _recover) ExitRecovery(now);
                else if (!prr) PartialAck(acked, now);
            }
            else if (_reduction is { Active: true, Cwr: true } cwr)
            {
                if (Una >= cwr.End)
                {
                    cwr.Active = false;
                    Congestion.EndReduction();
                }
            }
            else if (dataAcked > 0)
            {
                // SYN and FIN do not open the window; neither does a window the sender has not been using.
                // Linux counts what this ACK newly delivered (acked or SACKed), so bytes SACKed earlier
                // do not count twice when the cumulative ACK covers them.
                uint grown = _o.SlowStartByBytesAcked ? (uint)Math.Max(0, Math.Min(dataAcked, (Una - unaBefore) + SackedBytes - sackedBefore)) : (uint)dataAcked;
                if (grown > 0) Congestion.OnAck(new AckSample(grown, now, Rto.HasSample ? Rto.Srtt : TimeSpan.Zero, sample, ack, Nxt, CwndLimited));
            }
            _dupAcks = 0;
            if (Una == Max) RetransmitAt = Never;
            else RetransmitAt = now + Rto.Rto; // RFC 6298 5.3
        }
        else if (duplicate && _reduction is { FrtoStage: > 0 } frto)
        {
            // RFC 5682 2a/3a: a duplicate ACK after the retransmission: the loss was real. Back to
            // go-back-N from the hole, with no more than three segments' window if new data went.
            if (frto.FrtoStage == 2)
            {
                Nxt = Una;
                Congestion.SetWindow(Math.Min(Congestion.Window, 3u * (uint)Mss));
            }
            frto.FrtoStage = 0;
        }
        else if (duplicate && _o.FastRetransmit)
        {
            DuplicateAck(now);
        }
        if (_reduction is { RecoveryUndoArmed: true } dsackUndo && seg.Options.SackBlockCount > 0 && HasDsack(in seg.Options, ack)) DsackReported(dsackUndo, in seg.Options, now);
        if (Racking && _rack is { } rack && _sent is { Count: > 0 } sent && (_scoreboard is { IsEmpty: false } || _inRecovery || sent.LostBytes > 0))
        {
            // RFC 8985 6.2: losses by time; the first one found starts recovery (Linux: lost_out > 0).
            if (rack.DetectLoss(sent, now, _inRecovery, SackedBytes / Math.Max(Mss, 1), Rto.MinRtt, Rto.Srtt) && prr && !_inRecovery && !_inLoss && _o.FastRetransmit) EnterRecovery(now);
        }
        if (prr)
        {
            // RFC 6675: enough SACKed above SND.UNA is loss without waiting for three duplicate ACKs (RACK decides instead when on).
            if (!Racking && !_inRecovery && !_inLoss && _o.FastRetransmit && SackedBytes > (DupAckThreshold - 1) * Mss && Max > Una) EnterRecovery(now);
            if (_reduction is { Active: true } r)
            {
                long delivered = (Una - unaBefore) + (long)SackedBytes - sackedBefore;
                ReduceProportionally(r, delivered, crb: r.Cwr ? false : retransmittedAcked && LostBytes <= lostBefore);
            }
        }
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
    private uint LimitedTransmitAllowance =>
        _o.LimitedTransmit && !_inRecovery && _dupAcks is 1 or 2 && Nxt >= Max ? (uint)(_dupAcks * Mss) : 0;

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
        if (_inRecovery && _reduction is { Active: true }) RecoveryOutput(now);
        else SendWhatTheWindowsAllow(now);
        ValidateWindow(Max != maxBefore || RetransmittedSegments != retransmittedBefore);
        if (Una == Max)
        {
            ProbeAt = Never;
        }
        else if (_rearmProbe)
        {
            ArmProbe(now);
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
                SendData(Nxt, len, fin, now);
                continue;
            }
            if (FinQueued && Nxt == dataEnd) SendData(Nxt, 0, fin: true, now);
            return;
        }
    }

    /// <param name="advance">False for a retransmission out of line (fast retransmit): SND.NXT stays where it is.</param>
    private void SendData(SeqNum seq, int len, bool fin, TimeSpan now, bool advance = true)
    {
        var flags = TcpFlags.Ack;
        if (len > 0 && (seq + len == DataEnd && !MoreComing || _records is { } records && records.IsEnd(seq + len))) flags |= TcpFlags.Psh;
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
        if (len > 0)
        {
            _lastDataSentAt = now;
            if (Racking)
            {
                var sent = _sent ??= new SentSegments();
                sent.Mss = Mss;
                int old = isNew ? 0 : Math.Min(len, Max - seq);
                if (old > 0) sent.Resent(seq, old, now);
                if (len > old) sent.Append(seq + old, len - old, now);
            }
        }
        if (!isNew)
        {
            RetransmittedSegments++;
            if (_reduction is { RecoveryUndoArmed: true } undo && (_inRecovery || _inLoss)) undo.RecoveryRetransmissions++;
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
        if ((_o.UndoSpuriousTimeouts || _o.ForwardRtoRecovery) && !_inLoss)
        {
            // The first timeout of an episode: what to go back to if it proves spurious.
            var r = _reduction ??= new ReductionState();
            r.UndoArmed = _o.UndoSpuriousTimeouts;
            r.UndoCwnd = Congestion.Window;
            r.UndoSsthresh = Congestion.SlowStartThreshold;
            r.TimeoutMs = TimestampClock.Milliseconds(now);
            r.FrtoStage = (byte)(_o.ForwardRtoRecovery ? 1 : 0);
        }
        Rto.Backoff(_o);
        Congestion.OnRetransmissionTimeout(Flight, now);
        ProbeAt = Never;
        _probeSent = false;
        ForgetRecovery(); // the peer may have reneged on its SACKs
        _sent?.AllLost();
        _rack?.Reset();
        _inLoss = true;
        _lossRecover = Max;
        Nxt = Una;
        ArmRetransmission(now);
    }

    /// <summary>
    /// RFC 5682 (basic F-RTO) on an ACK that moved SND.UNA. Stage 1, the retransmission's ACK: unless
    /// all is acked, send new data (two segments) rather than resend; with none to send, go on as
    /// go-back-N. Stage 2: SND.UNA moved again, over data sent before the timeout and never resent:
    /// the timeout was spurious.
    /// </summary>
    private void ForwardRtoAdvance(ReductionState frto)
    {
        if (frto.FrtoStage == 2)
        {
            UndoSpuriousTimeout(frto);
            return;
        }
        if (Una >= _lossRecover || Max >= DataEnd || Una + Wnd <= Max)
        {
            frto.FrtoStage = 0; // all acked, or nothing new may go: F-RTO cannot tell; go-back-N as usual
            return;
        }
        Nxt = Max;
        Congestion.SetWindow(Flight + 2u * (uint)Mss);
        frto.FrtoStage = 2;
    }

    /// <summary>
    /// A D-SACK: the peer got a segment twice. Each one counts against the episode's retransmissions;
    /// when all are accounted for, none was needed (the "loss" was reordering), and the reduction is
    /// undone — the window and threshold go back to what they were (Linux's tcp_try_undo_dsack).
    /// </summary>
    private void DsackReported(ReductionState undo, in TcpOptions o, TimeSpan now)
    {
        var block = o.SackBlocks[0];
        int segments = Math.Max(1, (block.Right - block.Left + Math.Max(Mss, 1) - 1) / Math.Max(Mss, 1));
        undo.RecoveryRetransmissions -= segments;
        if (undo.RecoveryRetransmissions > 0 || _inLoss) return;
        undo.RecoveryUndoArmed = false;
        undo.SpuriousRecoveries++;
        if (_inRecovery) ExitRecovery(now);
        Congestion.Undo(undo.RecoveryUndoCwnd, undo.RecoveryUndoSsthresh);
    }

    /// <summary>Fast recoveries the peer's D-SACKs proved unneeded, and undone.</summary>
    public int SpuriousRecoveries => _reduction?.SpuriousRecoveries ?? 0;

    /// <summary>Timeouts that proved spurious and were undone.</summary>
    public int SpuriousTimeouts => _reduction?.SpuriousTimeouts ?? 0;

    /// <summary>
    /// RFC 3522's Eifel detection, as Linux's tcp_try_undo_loss: the first ACK after a timeout echoes
    /// a timestamp from before the retransmission, so the original segment arrived — the path was slow,
    /// not lossy. RFC 4015's response: the window and threshold go back to what they were, nothing
    /// more is resent (SND.NXT returns to SND.MAX: what was sent is on its way), nothing is lost.
    /// </summary>
    private void UndoSpuriousTimeout(ReductionState undo)
    {
        undo.UndoArmed = false;
        undo.FrtoStage = 0;
        undo.SpuriousTimeouts++;
        Congestion.Undo(undo.UndoCwnd, undo.UndoSsthresh);
        _inLoss = false;
        if (Nxt < Max) Nxt = Max;
        _sent?.NoneLost();
    }

    // ------------------------------------------------------------------ tail loss probe (RFC 8985 7)

    /// <summary>
    /// 7.2: two smoothed round trips after the last new data or forward ACK (plus the peer's worst
    /// delayed ACK when only one segment is out to be acked); if the retransmission timer would come
    /// first, the probe takes its place (as Linux): a probe, not a collapse of the window.
    /// </summary>
    private void ArmProbe(TimeSpan now)
    {
        ProbeAt = Never;
        // RFC 8985 7.2: no probe in recovery, nor after a timeout (the timer's go-back-N is under way).
        if (!_o.TailLossProbe || !SackOk || _inRecovery || _inLoss || _probeSent || !Rto.HasSample) return;
        var pto = 2 * Rto.Srtt;
        if (Flight <= (uint)Mss) pto += WorstCaseDelayedAck;
        if (pto < MinProbeTimeout) pto = MinProbeTimeout;
        ProbeAt = RetransmitAt != Never && now + pto > RetransmitAt ? RetransmitAt : now + pto;
    }

    /// <summary>7.3: the probe — a new segment if the peer's window lets one go, else the last segment sent, again.</summary>
    public void TailLossProbe(TimeSpan now)
    {
        ProbeAt = Never;
        if (Una == Max || _inRecovery || _inLoss) return;
        TailLossProbes++;
        _probeSent = true;
        var dataEnd = DataEnd;
        if (Nxt == Max && Nxt < dataEnd && Una + Wnd > Nxt)
        {
            int len = Math.Min(Math.Min(dataEnd - Nxt, Mss), Una + Wnd - Nxt);
            _probeResent = false;
            SendData(Nxt, len, fin: len == dataEnd - Nxt && FinQueued, now);
        }
        else if (_scoreboard is { IsEmpty: false })
        {
            // The peer has SACKed data above a hole: the hole is what it lacks, so that is the probe.
            _probeResent = true;
            _rtxHighest = Una;
            RetransmitNextHole(now);
        }
        else
        {
            // The last segment sent (cut where the segmentation cut it: full segments from SND.UNA), and
            // the FIN if that is what ends the flight. It ends at SND.MAX, not at the end of the
            // buffer: data the window held back was never sent and is no probe.
            bool finOut = FinQueued && Max == dataEnd + 1;
            var sentEnd = finOut ? dataEnd : Max;
            int outstanding = Math.Max(sentEnd - Una, 0);
            int len = outstanding == 0 ? 0 : (outstanding - 1) % Mss + 1;
            _probeResent = true;
            _timing = false; // Karn
            SendData(sentEnd - len, len, finOut, now, advance: false);
        }
        _probeEnd = Max;
        RetransmitAt = now + Rto.Rto; // 7.3: the retransmission timer starts again behind the probe
    }

    /// <summary>RFC 2883: a first SACK block below the cumulative ACK, or inside the second block, reports a duplicate: the probe was not needed.</summary>
    private static bool HasDsack(in TcpOptions o, SeqNum ack) =>
        o.SackBlockCount > 0 && (o.SackBlocks[0].Left < ack
            || o.SackBlockCount > 1 && o.SackBlocks[0].Left >= o.SackBlocks[1].Left && o.SackBlocks[0].Right <= o.SackBlocks[1].Right);

    // ------------------------------------------------------------------ loss recovery on duplicate ACKs
    // Fast retransmit and fast recovery (RFC 5681 3.2) with NewReno's partial ACKs (RFC 6582), choosing
    // what to resend from the peer's SACK blocks when it sends them (a simple form of RFC 6675's
    // scoreboard). The retransmission timer stays the last resort.

    private void RecordSacks(in TcpOptions o, TimeSpan now, ref SeqNum? reordered)
    {
        var board = _scoreboard ??= new ReassemblyQueue();
        for (int i = 0; i < o.SackBlockCount; i++)
        {
            var b = o.SackBlocks[i];
            // Only blocks about data in flight count; D-SACK blocks (below SND.UNA) and nonsense are ignored.
            if (b.Right > Max || b.Right <= b.Left)
            {
                SackBlocksRefused++;
                continue;
            }
            if (b.Left <= Una) continue;
            if (!board.Add(b.Left, b.Right, out _, out _))
            {
                SackBlocksRefused++;
                continue;
            }
            if (Racking && _sent is { } sent)
            {
                // Every segment wholly inside the block is delivered (a TSO segment is cut at the block's
                // edges, on its segment grid: an edge inside a segment leaves that segment unSACKed).
                sent.SplitOnGrid(b.Left, Mss, roundUp: true);
                sent.SplitOnGrid(b.Right, Mss, roundUp: false);
                for (int k = sent.IndexAtOrAfter(b.Left); k < sent.Count; k++)
                {
                    ref readonly var s = ref sent[k];
                    if (s.Start >= b.Right) break;
                    if (s.Start < b.Left || s.End > b.Right || s.Has(SentSegments.Mark.Sacked)) continue;
                    Delivered(in s, now, ref reordered);
                    sent.MarkSacked(k);
                }
            }
        }
    }

    /// <summary>The cumulative ACK delivered the segments below it not SACKed before.</summary>
    private void DeliveredByAck(SeqNum ack, TimeSpan now, ref SeqNum? reordered)
    {
        var sent = _sent!;
        for (int k = 0; k < sent.Count; k++)
        {
            ref readonly var s = ref sent[k];
            if (s.End > ack) break;
            if (!s.Has(SentSegments.Mark.Sacked)) Delivered(in s, now, ref reordered);
        }
    }

    private void Delivered(in SentSegments.Segment s, TimeSpan now, ref SeqNum? reordered)
    {
        var rack = _rack ??= new Rack();
        rack.Delivered(in s, now, Rto.MinRtt);
        if (!s.Has(SentSegments.Mark.EverResent) && (reordered is not SeqNum low || s.Start < low)) reordered = s.Start;
    }

    /// <summary>RACK's reordering timer fired: what its window now says is lost; true when recovery has something to send.</summary>
    public bool ReorderTimeout(TimeSpan now)
    {
        if (_rack is not { } rack) return false;
        rack.TimerAt = Never;
        if (_sent is not { Count: > 0 } sent) return false;
        if (!rack.DetectLoss(sent, now, _inRecovery, SackedBytes / Math.Max(Mss, 1), Rto.MinRtt, Rto.Srtt)) return false;
        if (!_inRecovery && !_inLoss && _o.ProportionalRateReduction)
        {
            // Linux's tcp_rack_reo_timeout: recovery starts as if one segment had been delivered.
            EnterRecovery(now);
            ReduceProportionally(_reduction!, Mss, crb: false);
        }
        return true;
    }

    private void DuplicateAck(TimeSpan now)
    {
        _dupAcks++;
        if (_inRecovery && _o.ProportionalRateReduction) return; // PRR paces recovery from OnAck
        if (_inRecovery)
        {
            // Each duplicate ACK means a segment has left the network: the window inflates by one, and
            // with SACK the next hole the peer has told us of is resent.
            Congestion.OnDuplicateAckInRecovery();
            if (_scoreboard is { IsEmpty: false }) RetransmitNextHole(now);
            Output(now);
            return;
        }
        // RFC 8985: a probe the peer SACKs was sent after everything below it that is still missing, so
        // all of that is lost (RACK's rule, for the probe): recovery starts without waiting for three.
        bool probeSacked = _probeSent && _scoreboard is { } board && board.FirstOverlap(_probeEnd - 1, _probeEnd) is not null;
        if (_dupAcks < DupAckThreshold && !probeSacked)
        {
            if (_o.LimitedTransmit) Output(now); // RFC 3042: new data on the first two duplicate ACKs
            return;
        }
        if (_o.ProportionalRateReduction)
        {
            if (!Racking) EnterRecovery(now); // with RACK the SACKs say what is lost, not the count
            return;
        }
        // Fast retransmit (RFC 5681 3.2 steps 2 and 3).
        Congestion.OnFastRetransmit(Flight, now);
        ProbeAt = Never;
        _inRecovery = true;
        _recover = Max;
        _rtxHighest = Una;
        RetransmitNextHole(now);
        RetransmitAt = now + Rto.Rto;
        Output(now);
    }

    /// <summary>RFC 6582 3.2 step 3: an ACK that covers part of what was outstanding: resend the next hole at once.</summary>
    private void PartialAck(int acked, TimeSpan now)
    {
        if (_rtxHighest < Una) _rtxHighest = Una;
        RetransmitNextHole(now);
        Congestion.OnPartialAck((uint)acked);
    }

    private void ExitRecovery(TimeSpan now)
    {
        _inRecovery = false;
        if (_reduction is { Active: true } r)
        {
            r.Active = false;
            Congestion.EndReduction();
        }
        else
        {
            Congestion.OnRecoveryEnd(Flight, now);
        }
    }

    // ------------------------------------------------------------------ RFC 6937 proportional rate reduction

    /// <summary>Fast recovery under PRR: the threshold is set, the window left for <see cref="ReduceProportionally"/> to bring down.</summary>
    private void EnterRecovery(TimeSpan now)
    {
        uint prior = Congestion.Window;
        uint priorSsthresh = Congestion.SlowStartThreshold;
        Congestion.StartReduction(Flight, now);
        var r = _reduction ??= new ReductionState();
        r.Start(prior, cwr: false, Max);
        if (_o.UndoSpuriousTimeouts && SackOk && _o.DuplicateSack)
        {
            r.RecoveryUndoArmed = true;
            r.RecoveryUndoCwnd = prior;
            r.RecoveryUndoSsthresh = priorSsthresh;
            r.RecoveryRetransmissions = 0;
        }
        ProbeAt = Never;
        _inRecovery = true;
        _recover = Max;
        _rtxHighest = Una;
        RetransmitAt = now + Rto.Rto;
    }

    /// <summary>An ECN echo under PRR: the window comes down over the next round, nothing resent (Linux's CWR state).</summary>
    public void StartCongestionWindowReduction(TimeSpan now)
    {
        if (_inRecovery || _inLoss || _reduction is { Active: true }) return;
        uint prior = Congestion.Window;
        Congestion.StartReduction(Flight, now);
        (_reduction ??= new ReductionState()).Start(prior, cwr: true, Max);
    }

    /// <summary>RFC 6675's pipe: bytes in flight, less those SACKed and those taken as lost and not resent.</summary>
    private long Pipe => (long)Flight - SackedBytes - LostNotResentBytes;

    /// <summary>
    /// RFC 6937 3.1 for one ACK that reported <paramref name="delivered"/> bytes: while the pipe is above
    /// the threshold send in proportion (ssthresh / RecoverFS) to what was delivered; below it, catch up
    /// towards the threshold (PRR-CRB when resent data was acked and nothing newly lost, else PRR-SSRB,
    /// as the Linux the conformance scripts were written for). The window becomes pipe + sndcnt; the
    /// first ACK always lets the fast retransmit go.
    /// </summary>
    private void ReduceProportionally(ReductionState r, long delivered, bool crb)
    {
        if (delivered <= 0) return;
        r.Delivered += delivered;
        long pipe = Math.Max(Pipe, 0);
        long ssthresh = Congestion.SlowStartThreshold;
        long delta = ssthresh - pipe;
        long sndcnt;
        if (delta < 0)
        {
            sndcnt = (ssthresh * r.Delivered + r.PriorCwnd - 1) / r.PriorCwnd - r.Out;
        }
        else
        {
            sndcnt = crb ? Math.Max(r.Delivered - r.Out, delivered) + Mss : delivered;
            sndcnt = Math.Min(delta, sndcnt);
        }
        sndcnt = Math.Max(sndcnt, r.Out == 0 ? Mss : 0);
        Congestion.SetWindow((uint)Math.Clamp(pipe + sndcnt, 0, uint.MaxValue));
    }

    /// <summary>Recovery under PRR: while the pipe is below the window, resend what is lost, then new data.</summary>
    private void RecoveryOutput(TimeSpan now)
    {
        var r = _reduction!;
        for (int guard = 0; guard < 1 << 16; guard++)
        {
            if (Pipe >= Congestion.Window) return;
            if (LostNotResentBytes > 0)
            {
                int resent = RetransmitNextHole(now);
                if (resent <= 0) return;
                r.Out += resent;
                continue;
            }
            var dataEnd = DataEnd;
            var windowEdge = Una + Wnd;
            if (Nxt < dataEnd && Nxt < windowEdge)
            {
                int len = Math.Min(Math.Min(dataEnd - Nxt, Mss), windowEdge - Nxt);
                SendData(Nxt, len, fin: len == dataEnd - Nxt && FinQueued, now);
                r.Out += len;
                continue;
            }
            if (FinQueued && Nxt == dataEnd) SendData(Nxt, 0, fin: true, now);
            return;
        }
    }

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
    private bool CwndLimited =>
        !_o.GrowOnlyWhenCwndLimited || _isCwndLimited
        || Congestion.Window < Congestion.SlowStartThreshold && Congestion.Window < 2u * _maxFlight;

    /// <summary>After sending: remember how much of the window was used (Linux's tcp_cwnd_validate).</summary>
    private void ValidateWindow(bool sent)
    {
        if (!_o.GrowOnlyWhenCwndLimited) return;
        uint flight = (uint)Math.Max(Pipe, 0);
        bool limited = flight + (uint)Mss > Congestion.Window; // no room for another full segment
        if (!sent && !limited) return;
        if (Una >= _cwndUsageSeq || limited || !_isCwndLimited && flight > _maxFlight)
        {
            _isCwndLimited = limited;
            _maxFlight = flight;
            _cwndUsageSeq = Max;
        }
    }

    /// <summary>Resends the first stretch from SND.UNA (or past what this recovery resent) that the peer has not SACKed.</summary>
    private int RetransmitNextHole(TimeSpan now)
    {
        if (Racking && _sent is { } sent)
        {
            // RACK: the first segment marked lost and not resent since.
            for (int k = 0; k < sent.Count; k++)
            {
                ref readonly var s = ref sent[k];
                if (!s.Has(SentSegments.Mark.Lost) || s.Has(SentSegments.Mark.Resent) || s.Has(SentSegments.Mark.Sacked)) continue;
                int length = Math.Min(s.Length, Mss);
                var at = s.Start;
                if (s.Length > Mss) sent.SplitAt(at + Mss); // a TSO segment: only its first MSS goes again
                bool withFin = FinQueued && at + length == DataEnd && Max > DataEnd;
                _timing = false; // Karn
                SendData(at, length, withFin, now, advance: false);
                if (at + length > _rtxHighest) _rtxHighest = at + length;
                // Linux restarts the retransmission timer when the head goes again: the timeout then
                // measures from the latest copy of what the peer lacks first.
                if (at == Una) RetransmitAt = now + Rto.Rto;
                return length;
            }
            return 0;
        }
        var start = _rtxHighest > Una ? _rtxHighest : Una;
        var limit = Max;
        if (_scoreboard is { } board)
        {
            // Step over SACKed ranges; stop at the highest SACKed byte: past it nothing is known lost.
            SeqNum highest = Una;
            for (int i = 0; i < board.Count; i++)
            {
                var r = board[i];
                if (r.End > highest) highest = r.End;
            }
            for (int i = 0; i < board.Count; i++)
            {
                var r = board[i];
                if (r.Start <= start && r.End > start) start = r.End;
            }
            if (!board.IsEmpty) limit = highest;
            for (int i = 0; i < board.Count; i++)
            {
                var r = board[i];
                if (r.Start > start && r.Start < limit)
                {
                    limit = r.Start;
                    break;
                }
            }
        }
        if (start >= limit) return 0;
        var dataEnd = DataEnd;
        int len = Math.Min(Math.Min(limit - start, Mss), Math.Max(dataEnd - start, 0));
        bool fin = FinQueued && start + len == dataEnd && limit > dataEnd;
        if (len <= 0 && !fin) return 0;
        _timing = false; // Karn: an ACK of resent data says nothing about the round trip
        SendData(start, len, fin, now, advance: false);
        _rtxHighest = start + len + (fin ? 1 : 0);
        return Math.Max(len, 1);
    }

    private void ForgetRecovery()
    {
        _inRecovery = false;
        if (_reduction is not null) _reduction.Active = false;
        _dupAcks = 0;
        _scoreboard?.Clear();
    }
}
