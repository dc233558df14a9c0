using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The receiving half of a connection: the receive sequence space (RFC 9293 3.3.1: IRS, RCV.NXT,
/// RCV.WND as an advertised right edge), the receive buffer with out-of-order bytes reassembled in
/// place, the SACK and D-SACK blocks we report, the window we offer, and when an ACK is due
/// (RFC 5681 4.2). It decides; the connection sends.
/// </summary>
internal sealed class Receiver
{
    private readonly ConnectionOptions _o;
    private ReassemblyQueue? _reasm; // allocated at the first out-of-order segment
    private SackList? _sacks;
    private int _bytesSinceAck;
    private int _segmentsSinceAck;
    private int _quickAcks;        // Linux's quickack mode: ACKs still to send at once rather than delayed
    private bool _quickAckPrimed;  // the first data has set the count

    public Receiver(ConnectionOptions options)
    {
        _o = options;
        Buffer = new ByteRing(options.ReceiveBufferSize);
    }

    /// <summary>In-order bytes the user has not read, and (past them, held pending) out-of-order bytes.</summary>
    public ByteRing Buffer;
    /// <summary>The buffer's growth with the application's read rate (when <see cref="ConnectionOptions.ReceiveBufferMax"/> is set).</summary>
    public ReceiveBufferTuning Tuning;
    public SeqNum Irs { get; private set; }
    public SeqNum Nxt { get; private set; }
    /// <summary>RCV.NXT + RCV.WND as last advertised: the right edge never moves left.</summary>
    public SeqNum AdvertisedEdge { get; set; }
    /// <summary>The peer's FIN has been taken (in order).</summary>
    public bool FinReceived { get; private set; }
    /// <summary>The largest segment the peer has sent: the unit of the window's silly-window rules and the delayed ACK.</summary>
    public int Mss { get; set; }
    /// <summary>Our window scale (RFC 7323), agreed in the handshake.</summary>
    public byte Shift { get; set; }
    /// <summary>SACK agreed: out-of-order data is reported in SACK blocks.</summary>
    public bool SackOk { get; set; }
    /// <summary>The MSS our SYN announced.</summary>
    public int AnnouncedMss { get; set; } = 536;

    /// <summary>The segment Linux offers its window in whole multiples of (the announced MSS, less timestamps on a passive open).</summary>
    public int WindowMss { get; set; } = 536;

    private uint _selectedWindow = 65535;
    private SeqNum _selectedAt;

    /// <summary>
    /// The window last chosen, before the 16-bit field clamped it, less what has arrived since
    /// (Linux's tcp_receive_window: rcv_wup + rcv_wnd - rcv_nxt).
    /// </summary>
    public uint SelectedWindowLeft
    {
        get
        {
            long left = _selectedWindow - (long)(Nxt - _selectedAt);
            return left > 0 ? (uint)left : 0u;
        }
    }

    /// <summary>The window a SYN or SYN-ACK offers (the field is never scaled).</summary>
    public ushort SynWindow()
    {
        if (!_o.OfferHalfTheReceiveBuffer) return (ushort)Math.Min(Buffer.Free, 65535);
        return (ushort)Math.Min(Math.Min(LinuxInitialWindow, (uint)Buffer.Free), 65535u);
    }

    // tcp_select_initial_window: half the buffer, rounded down to whole segments of our MSS.
    private uint LinuxInitialWindow
    {
        get
        {
            uint half = (uint)Buffer.Capacity / 2;
            uint mss = (uint)Math.Max(WindowMss, 1);
            return half > mss ? half - half % mss : half;
        }
    }

    /// <summary>
    /// Linux's "more than one full frame" since the last ACK (__tcp_ack_snd_check), its frame being the
    /// largest segment seen but no more than the MSS we announced (tcp_measure_rcv_mss).
    /// </summary>
    public bool MoreThanOneFullSegmentUnacked => _bytesSinceAck > Math.Min(Math.Max(Mss, 1), Math.Max(AnnouncedMss, 1));

    /// <summary>The last segment's text was to be acked at once only because of quickack mode.</summary>
    public bool AckNowOnlyForQuickAck { get; private set; }

    /// <summary>Linux's pingpong count: replies sent within ato of data received (see <see cref="ConnectionOptions.PingPongThreshold"/>).</summary>
    public int PingPong
    {
        get => _pingPong;
        set => _pingPong = Math.Min(value, 255);
    }

    private int _pingPong;

    /// <summary>The connection is interactive: quick ACKs are held back as delayed ones.</summary>
    public bool InPingPong => _o.PingPongThreshold is int threshold && _pingPong >= threshold;

    /// <summary>Has data arrived yet (Linux starts its delayed-ACK engine, ato, with the first)?</summary>
    public bool DataArrived => _quickAckPrimed;

    /// <summary>Bytes that became readable in order.</summary>
    public long BytesReceived { get; private set; }

    /// <summary>RCV.WND: what the last window we advertised still allows.</summary>
    public uint Window => AdvertisedEdge > Nxt ? (uint)(AdvertisedEdge - Nxt) : 0u;

    /// <summary>How many separate ranges wait out of order (bounded by <see cref="ReassemblyQueue.MaxRanges"/>).</summary>
    public int OutOfOrderRanges => _reasm?.Count ?? 0;

    /// <summary>Out-of-order segments dropped because the reassembly queue had no range left for them.</summary>
    public long OutOfOrderRefused { get; private set; }

    private bool DuplicateSack => SackOk && _o.DuplicateSack;

    /// <summary>
    /// The application read <paramref name="n"/> bytes: once a round trip, the buffer may grow (see
    /// <see cref="ReceiveBufferTuning"/>). A buffer holding out-of-order bytes past its end waits for the next round.
    /// </summary>
    public void NoteRead(int n, TimeSpan now, TimeSpan fallbackRtt)
    {
        if (_o.ReceiveBufferMax is not int max || max <= Buffer.Capacity) return;
        int wanted = Tuning.OnRead(n, now, fallbackRtt, Math.Max(Mss, 1), Buffer.Capacity, max);
        if (wanted > 0) Buffer.Resize(wanted);
    }

    /// <summary>The peer's SYN: IRS, and RCV.NXT just past it.</summary>
    public void Synchronize(SeqNum irs)
    {
        Irs = irs;
        Nxt = irs + 1;
        _selectedAt = Nxt;
    }

    /// <summary>Back to LISTEN: no peer any more.</summary>
    public void Forget()
    {
        DropOutOfOrder();
        Irs = Nxt = AdvertisedEdge = default;
    }

    /// <summary>
    /// The window segments are checked against: the advertised one, or with BSD's rule the free buffer
    /// when that is larger (unless <paramref name="advertisedOnly"/>: BSD's syncache checks the SYN-ACK's window).
    /// </summary>
    public uint AcceptanceWindow(bool advertisedOnly) =>
        _o.AcceptWithinBufferSpace && !advertisedOnly ? Math.Max(Window, (uint)Buffer.Free) : Window;

    /// <summary>RFC 9293 3.10.7.4, first check: does any of the segment fall in the window?</summary>
    public bool IsAcceptable(SeqNum seq, int segLen, uint window)
    {
        if (segLen == 0) return window == 0 ? seq == Nxt : seq.InRange(Nxt, Nxt + window);
        if (window == 0) return false;
        return seq.InRange(Nxt, Nxt + window) || (seq + (segLen - 1)).InRange(Nxt, Nxt + window);
    }

    /// <summary>Data we already have, wholly: reported once in a D-SACK block (RFC 2883) so the sender sees its resend was spurious.</summary>
    public void NoteDuplicate(SeqNum seq, int length)
    {
        if (length > 0 && DuplicateSack && seq + length <= Nxt) Sacks.Duplicate(seq, seq + length);
        // Linux's tcp_send_dupack enters quickack mode for a duplicate, and that starts ato.
        if (length > 0 && seq < Nxt) _atoStarted = true;
    }

    private bool _atoStarted;

    /// <summary>Linux's delayed-ACK timeout (ato) is running: data has arrived, or a duplicate (which set it).</summary>
    public bool AckTimeoutStarted => _quickAckPrimed || _atoStarted;

    /// <summary>
    /// Takes the text of an acceptable segment. In-order bytes go to the user's queue (and pull in any
    /// out-of-order ranges they now reach); bytes beyond RCV.NXT wait in the reassembly queue and are
    /// reported in SACK blocks; bytes we already had are reported once as a D-SACK block. Returns true
    /// when the segment ended exactly at the new RCV.NXT, so its FIN (if any) is in order.
    /// <paramref name="committed"/> is how many bytes became readable; <paramref name="ackNow"/> says
    /// the segment must be acknowledged at once rather than by the delayed ACK.
    /// </summary>
    /// <param name="segmentSize">The joined packet stands for segments of this size (GRO); 0: one segment.</param>
    public bool TakeText(SeqNum seq, ReadOnlySpan<byte> payload, uint acceptanceWindow, out int committed, out bool ackNow, int segmentSize = 0)
    {
        committed = 0;
        var end = seq + payload.Length;
        int limit = (int)Math.Min(acceptanceWindow, (uint)Buffer.Free);
        var edge = Nxt + limit;
        Mss = Math.Max(Mss, segmentSize > 0 ? Math.Min(segmentSize, payload.Length) : payload.Length);
        bool dsack = DuplicateSack;
        if (dsack && seq < Nxt) Sacks.Duplicate(seq, end < Nxt ? end : Nxt);

        if (seq > Nxt)
        {
            // Out of order: keep it where it belongs and tell the sender at once (RFC 5681 4.2: an
            // immediate duplicate ACK), with the SACK block it now lies in.
            ackNow = true;
            EnterQuickAck(); // Linux: a hole means the sender needs to hear from us at once for a while
            if (!SackOk && !_o.QueueOutOfOrderWithoutSack) return false;
            var stop = end < edge ? end : edge;
            if (stop <= seq) return false;
            var q = _reasm ??= new ReassemblyQueue();
            if (dsack && q.FirstOverlap(seq, stop) is { } dup) Sacks.Duplicate(dup.Start, dup.End);
            if (!q.Add(seq, stop, out var blockStart, out var blockEnd))
            {
                OutOfOrderRefused++;
                return false;
            }
            Buffer.WriteAt(seq - Nxt, payload[..(stop - seq)]);
            Buffer.HoldsPending = true;
            if (SackOk) Sacks.Arrived(blockStart, blockEnd);
            return false;
        }

        int skip = Nxt - seq; // already received: trim the front
        var fresh = payload[skip..];
        int taken = Math.Min(fresh.Length, limit);
        bool hadHoles = _reasm is { IsEmpty: false };
        if (hadHoles && dsack && taken > 0 && _reasm!.FirstOverlap(Nxt, Nxt + taken) is { } overlap) Sacks.Duplicate(overlap.Start, overlap.End);
        Buffer.WriteAt(0, fresh[..taken]);
        var next = Nxt + taken;
        if (hadHoles)
        {
            next = _reasm!.Advance(next);
            Buffer.HoldsPending = !_reasm.IsEmpty;
        }
        committed = next - Nxt;
        BytesReceived += committed;
        Buffer.Commit(committed);
        Nxt = next;
        if (_sacks is { Count: > 0 }) _sacks.Acknowledged(Nxt);
        _bytesSinceAck += committed;
        if (committed > 0) _segmentsSinceAck += segmentSize > 0 ? (committed + segmentSize - 1) / segmentSize : 1;
        // RFC 5681 4.2: at least every second full-sized segment (BSD: every second segment, whatever
        // its size) is acked at once, and so is a segment that fills (part of) a hole or carries old data.
        bool second = _o.AckEverySecondSegment ? _segmentsSinceAck >= 2 : _bytesSinceAck >= 2 * Mss;
        if (!_quickAckPrimed && committed > 0)
        {
            _quickAckPrimed = true;
            EnterQuickAck();
        }
        bool owed = taken < fresh.Length || !_o.DelayedAck || second || skip > 0 || hadHoles;
        bool quick = _quickAcks > 0 && !InPingPong;
        ackNow = owed || quick;
        AckNowOnlyForQuickAck = !owed && quick;
        return taken == fresh.Length && Nxt == end;
    }

    /// <summary>
    /// Linux's quickack mode (tcp_incr_quickack): at the start of a transfer, and after a hole, the
    /// next ACKs go at once — as many as half the window holds segments, up to
    /// <see cref="ConnectionOptions.QuickAcks"/> — so the sender's slow start is not held up by delayed ACKs.
    /// </summary>
    private void EnterQuickAck()
    {
        if (_o.QuickAcks <= 0) return;
        int segments = (int)Math.Min(Window / (2u * (uint)Math.Max(Mss, 1)), (uint)_o.QuickAcks);
        if (segments < 2) segments = 2;
        if (segments > _quickAcks) _quickAcks = segments;
    }

    /// <summary>The peer's FIN, in order: it takes one sequence number.</summary>
    public void TakeFin()
    {
        Nxt += 1;
        FinReceived = true;
    }

    /// <summary>An ACK carrying RCV.NXT is going out: whatever the delayed ACK waited for is answered.</summary>
    public void AckSent()
    {
        _bytesSinceAck = 0;
        _segmentsSinceAck = 0;
        if (_quickAcks > 0) _quickAcks--;
    }

    /// <summary>Our SACK blocks (and a pending D-SACK block) for an ACK we are about to send.</summary>
    public void WriteSacks(ref TcpOptions options)
    {
        if (SackOk && _sacks is not null) _sacks.WriteTo(ref options);
    }

    /// <summary>
    /// The window field for a non-SYN segment. The right edge never moves left (RFC 9293 3.8.6), and it
    /// moves right only by a worthwhile amount: receiver-side silly window avoidance (3.8.6.2.2).
    /// </summary>
    /// <param name="pressure">The host is short of buffer memory: offer at most four segments beyond
    /// what is already offered (Linux clamps rcv_ssthresh to 4 MSS), never taking back what was.</param>
    public ushort WindowField(int sendMss, bool pressure = false)
    {
        uint current = Window;
        uint free = (uint)Buffer.Free;
        if (pressure) free = Math.Min(free, Math.Max(current, 4u * (uint)Math.Max(Mss, 1)));
        uint wnd = current;
        if (_o.OfferHalfTheReceiveBuffer)
        {
            // __tcp_select_window: what the accounting leaves (half of what is free), no more than the
            // initial window (rcv_ssthresh, not grown here), rounded up so the scale cannot hide it.
            uint space = Math.Min(free / 2, LinuxInitialWindow);
            if (pressure) space = Math.Min(space, Math.Max(current, 4u * (uint)Math.Max(Mss, 1)));
            uint unit = 1u << Shift;
            wnd = (space + unit - 1) & ~(unit - 1);
            if (wnd < current) wnd = current;
        }
        else if (_o.AdvertiseFreeSpace)
        {
            // BSD: offer all free space, but nothing rather than a silly sliver (tcp_output's recwin).
            wnd = free < Buffer.Capacity / 4 && free < (uint)Math.Max(sendMss, 1) ? 0 : free;
            if (wnd < current) wnd = current;
        }
        else
        {
            uint threshold = (uint)Math.Min(Buffer.Capacity / 2, Math.Max(Mss, 1));
            if (free > current && free - current >= threshold) wnd = free;
            else if (current == 0 && free >= threshold) wnd = free;
        }
        _selectedWindow = wnd;
        _selectedAt = Nxt;
        uint field = Math.Min(wnd >> Shift, 65535u);
        var edge = Nxt + (field << Shift);
        if (edge > AdvertisedEdge) AdvertisedEdge = edge;
        return (ushort)field;
    }

    /// <summary>After the user read: is a window update worth a segment? <paramref name="before"/> is RCV.WND before the read.</summary>
    public bool WindowUpdateDue(uint before, int sendMss)
    {
        uint free = (uint)Buffer.Free;
        if (_o.AdvertiseFreeSpace)
        {
            // BSD's tcp_output: update when the window grows by two segments and by a quarter of the
            // buffer (or the buffer is small), or by half the buffer.
            uint cap = (uint)Buffer.Capacity;
            uint recwin = (uint)Math.Min(free, 65535L << Shift);
            if (before >> Shift >= recwin >> Shift) return false;
            uint adv = recwin - before;
            uint mss = (uint)Math.Max(sendMss, 1);
            return (adv >= 2 * mss && (adv >= cap / 4 || recwin <= cap / 8 || cap <= 8 * mss || adv >= 65535u << Shift)) || 2 * adv >= cap;
        }
        uint threshold = (uint)Math.Min(Buffer.Capacity / 2, Math.Max(Mss, 1));
        // Worth a segment only when the peer may be held up by the old window.
        return free > before && free - before >= threshold && before < 2u * (uint)Math.Max(Mss, 1);
    }

    /// <summary>Forgets data held out of order (and the SACK state about it), releasing the ring if nothing else is in it.</summary>
    public void DropOutOfOrder()
    {
        _reasm?.Clear();
        _sacks?.Clear();
        if (Buffer.HoldsPending)
        {
            Buffer.HoldsPending = false;
            Buffer.Discard(0);
        }
    }

    private SackList Sacks => _sacks ??= new SackList();
}
