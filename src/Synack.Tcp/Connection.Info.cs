namespace Synack.Tcp;

// tcp_info: what the connection would tell `ss -ti` or getsockopt(TCP_INFO), in any state.
public sealed partial class Connection
{
    private TimeSpan _establishedAt;
    private int _arrivalSegmentSize; // the segment being processed stands for several of this size (GRO); 0: one
    private TimeSpan _unansweredSince; // when the data the retransmission timer is resending first went out
    private TransferClock? _clock;
    private bool _sendBufferFull; // the application found no room (SOCK_NOSPACE)

    private TransferClock Clock => _clock ??= new TransferClock(_establishedAt);

    /// <summary>The connection's state and counters now, in <c>struct tcp_info</c>'s units.</summary>
    public TcpInfo GetInfo(TimeSpan now)
    {
        int mss = Math.Max(_snd.Mss, 1);
        int Segments(long bytes) => (int)((bytes + mss - 1) / mss);
        var rto = _snd.Rto;
        bool synchronized = State.IsSynchronized();
        var (busy, rwnd, sndbuf) = _clock?.Totals(now) ?? default;
        long Since(TimeSpan t) => synchronized || State == TcpState.Closed && _establishedAt != default ? (long)(now - t).TotalMilliseconds : 0;
        uint ssthresh = _snd.Congestion.SlowStartThreshold;
        return new TcpInfo
        {
            State = State,
            CongestionState = CongestionStateNow,
            Retransmits = synchronized ? _retries : 0,
            Probes = Math.Max(_snd.PersistProbes, _keepAliveProbes),
            Backoff = rto.Backoffs,
            TimestampsNegotiated = _tsOk,
            SackNegotiated = _sackOk,
            WindowScaleNegotiated = _wsOk,
            EcnNegotiated = _ecnOk,
            SendWindowScale = _snd.Shift,
            ReceiveWindowScale = _rcv.Shift,
            RtoMicroseconds = (long)rto.Rto.TotalMicroseconds,
            SendMss = _snd.Mss,
            ReceiveMss = _rcv.Mss,
            AdvertisedMss = SynMss,
            Unacked = synchronized ? Segments(_snd.Max - _snd.Una) : 0,
            Sacked = Segments(_snd.SackedBytes),
            Lost = Segments(_snd.LostBytes),
            Retrans = Segments(_snd.RetransmittedOutstanding),
            LastDataSentMilliseconds = Since(_snd.LastDataSentAt == Never ? _establishedAt : _snd.LastDataSentAt),
            LastDataReceivedMilliseconds = Since(_clock?.LastDataReceived ?? _establishedAt),
            LastAckReceivedMilliseconds = Since(_clock?.LastAckReceived ?? _establishedAt),
            RttMicroseconds = rto.HasSample ? (long)rto.Srtt.TotalMicroseconds : 0,
            RttVarianceMicroseconds = rto.HasSample ? (long)rto.RttVar.TotalMicroseconds : 0,
            MinRttMicroseconds = rto.HasSample ? (long)rto.MinRtt.TotalMicroseconds : 0,
            SendSsthresh = ssthresh >= int.MaxValue / 2 ? TcpInfo.InfiniteSsthresh : ssthresh / mss,
            SendCwnd = _snd.Congestion.Window / mss,
            Reordering = _snd.Reordering,
            ReorderingSeen = _snd.ReorderingEvents,
            TotalRetrans = _snd.RetransmittedSegments,
            BytesAcked = _snd.BytesAcked,
            BytesReceived = _rcv.BytesReceived,
            NotSentBytes = synchronized ? Math.Max(0, _snd.DataEnd - _snd.Nxt) : _snd.Buffer.Count,
            BusyMicroseconds = (long)busy.TotalMicroseconds,
            ReceiveWindowLimitedMicroseconds = (long)rwnd.TotalMicroseconds,
            SendBufferLimitedMicroseconds = (long)sndbuf.TotalMicroseconds,
        };
    }

    private CongestionState CongestionStateNow =>
        _snd.InLossRecovery ? CongestionState.Loss
        : _snd.InFastRecovery ? CongestionState.Recovery
        : _snd.InCongestionWindowReduction || _ecnResponded && _snd.Una < _ecnRecover ? CongestionState.Cwr
        : _snd.DuplicateAcks > 0 || _snd.SackedBytes > 0 ? CongestionState.Disorder
        : CongestionState.Open;

    /// <summary>After the sender has had its chance to send: which condition holds it now.</summary>
    private void NoteSenderLimits(TimeSpan now)
    {
        if (_clock is not { } clock) return;
        bool idle = _snd.Una == _snd.Max && _snd.Buffer.Count == 0;
        if (idle)
        {
            clock.Stop(TransferClock.Limit.Busy, idle: true, now);
            return;
        }
        clock.Start(TransferClock.Limit.Busy, now);
        bool unsent = _snd.Nxt < _snd.DataEnd;
        // Linux's tcp_write_xmit tests the congestion window first: a sender it stops is not window-limited.
        if (unsent && _snd.CwndHasRoom && _snd.Nxt >= _snd.Una + _snd.Wnd) clock.Start(TransferClock.Limit.ReceiveWindow, now);
        else clock.Stop(TransferClock.Limit.ReceiveWindow, idle: false, now);
        if (_sendBufferFull && BufferWriteable)
        {
            _sendBufferFull = false; // Linux's tcp_check_space: SOCK_NOSPACE cleared, the limit over
            clock.Stop(TransferClock.Limit.SendBuffer, idle: false, now);
        }
        // Held back by the send buffer (tcp_cwnd_validate): the application waits for room, everything it
        // gave is out, and the congestion window is not what holds the sender.
        else if (_sendBufferFull && !unsent && !_snd.CwndLimited) clock.Start(TransferClock.Limit.SendBuffer, now);
    }

    /// <summary>The application wrote and found the send buffer full.</summary>
    private void NoteSendBufferFull(TimeSpan now)
    {
        _sendBufferFull = true;
        _ = Clock; // the chronograph starts with the first data
    }
}
