using Synack.Wire;

namespace Synack.Tcp;

// SEGMENT ARRIVES: RFC 9293 section 3.10.7, with RFC 5961 (RST, SYN and ACK checks) and RFC 7323 (PAWS).
public sealed partial class Connection
{
    /// <summary>Processes one arriving segment (already checksummed and demultiplexed to this connection).</summary>
    public void OnSegment(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        using var _ = Enter();
        if (_o.DropSynFin && (seg.Flags & (TcpFlags.Syn | TcpFlags.Fin)) == (TcpFlags.Syn | TcpFlags.Fin) && State != TcpState.Closed) return;
        switch (State)
        {
            case TcpState.Closed:
                if (ResetForUnknownSegment(in seg, payload.Length, out var rst)) Transmit(in rst, default, TcpOptionLayout.Established);
                return;
            case TcpState.Listen:
                ArriveInListen(in seg, now);
                return;
            case TcpState.SynSent:
                ArriveInSynSent(in seg, payload, now);
                return;
            case TcpState.TimeWait:
                ArriveInTimeWait(in seg, payload.Length, now);
                return;
            default:
                ArriveSynchronized(in seg, payload, now);
                return;
        }
    }

    private void ArriveInListen(in TcpHeader seg, TimeSpan now)
    {
        if ((seg.Flags & TcpFlags.Rst) != 0) return;
        if ((seg.Flags & TcpFlags.Ack) != 0)
        {
            SendReset(seg.Ack);
            return;
        }
        if ((seg.Flags & TcpFlags.Syn) == 0) return;

        // A listener that was opened without a remote address takes the SYN's.
        if (Tuple.RemotePort == 0) Tuple = Tuple with { RemotePort = seg.SourcePort };
        _rcv.Synchronize(seg.Seq);
        NegotiateFromSyn(in seg);
        ChooseIss(now);
        _sndWnd = seg.Window; // never scaled in a SYN
        _sndMaxWnd = _sndWnd;
        _sndWl1 = seg.Seq;
        _sndWl2 = seg.Ack;
        _retries = 0;
        // Data on a SYN is not taken (RCV.NXT covers only the SYN); the peer sends it again once synchronized.
        SendSyn(now, ack: true);
        SetState(TcpState.SynReceived, "rcv SYN");
        ArmRetransmission(now);
    }

    private void ArriveInSynSent(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        bool hasAck = (seg.Flags & TcpFlags.Ack) != 0;
        if (hasAck && (seg.Ack <= _iss || seg.Ack > _sndMax))
        {
            // RFC 9293 figure 9: a SYN-ACK for an old incarnation. Our RST (seq = its ACK) tells the
            // peer to drop that half-open connection; our own SYN stays outstanding.
            if ((seg.Flags & TcpFlags.Rst) == 0) SendReset(seg.Ack);
            return;
        }
        if ((seg.Flags & TcpFlags.Rst) != 0)
        {
            if (hasAck) EnterClosed("rcv RST: connection refused", TcpError.ConnectionRefused);
            return;
        }
        if ((seg.Flags & TcpFlags.Syn) == 0) return;

        _rcv.Synchronize(seg.Seq);
        NegotiateFromSyn(in seg);
        _sndWnd = seg.Window;
        _sndMaxWnd = _sndWnd;
        _sndWl1 = seg.Seq;
        _sndWl2 = seg.Ack;
        if (hasAck)
        {
            _sndUna = seg.Ack;
            if (_retries == 0 && !_tsOk) _rto.Sample(now - _rttStart); // Karn: only an unretransmitted SYN
            else if (_tsOk && seg.Options.HasTimestamps) SampleFromTimestamp(seg.Options.TsEcr, now);
        }
        if (_sndUna > _iss)
        {
            _retries = 0;
            _rtxAt = Never;
            SetState(TcpState.Established, "rcv SYN-ACK");
            _rcv.AdvertisedEdge = _rcv.Nxt; // let the first ACK advertise the scaled window
            SendAck(now);
            Connected(now);
            return;
        }
        // Simultaneous open: both SYNs crossed.
        SetState(TcpState.SynReceived, "rcv SYN (simultaneous open)");
        SendSyn(now, ack: true, seq: _iss);
        ArmRetransmission(now);
    }

    private void ArriveSynchronized(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var flags = seg.Flags;
        bool rst = (flags & TcpFlags.Rst) != 0;
        bool syn = (flags & TcpFlags.Syn) != 0;
        bool fin = (flags & TcpFlags.Fin) != 0;
        var seq = seg.Seq;
        int segLen = SegmentLength(flags, payload.Length);

        // Linux and BSD answer a retransmitted SYN in SYN-RECEIVED with the SYN-ACK again: our SYN-ACK
        // was probably lost, and a bare ACK (what step one would send) cannot help the peer.
        if (State == TcpState.SynReceived && syn && !rst && (flags & TcpFlags.Ack) == 0 && seq == _rcv.Irs)
        {
            SendSyn(now, ack: true, seq: _iss);
            return;
        }

        // Simultaneous open (RFC 9293 figure 8, line 6): the peer's SYN-ACK repeats the SYN we already
        // took. Its SYN sits on sequence space already received, so trim it and take the rest as an ACK.
        if (State == TcpState.SynReceived && !_passiveOpen && syn && !rst && (flags & TcpFlags.Ack) != 0 && seq == _rcv.Irs)
        {
            syn = false;
            seq += 1;
            segLen -= 1;
        }

        // RFC 7323 3.2: once timestamps are agreed, a segment without one (other than RST) SHOULD be
        // dropped silently. Linux tolerates it; BSD drops it.
        if (_tsOk && !seg.Options.HasTimestamps && !rst && _o.DropSegmentsWithoutTimestamps) return;

        // RFC 7323 5.3 (PAWS): a segment whose timestamp is older than TS.Recent is an old duplicate.
        if (_tsOk && seg.Options.HasTimestamps && !rst && unchecked((int)(seg.Options.TsVal - _tsRecent)) < 0)
        {
            SendAck(now);
            return;
        }

        // First: the sequence number check.
        uint rcvWnd = AcceptanceWindow;
        bool forceAck = false;
        bool oldSegment = false;
        if (!_rcv.IsAcceptable(seq, segLen, rcvWnd))
        {
            if (!rst && !syn) _rcv.NoteDuplicate(seq, payload.Length);
            // RFC 9293 3.10.7.4: with a zero window nothing is acceptable, but a valid ACK must still be
            // heard, or two peers with closed windows would never learn that the other's opened.
            if (rcvWnd == 0 && seq == _rcv.Nxt && !rst && !syn)
            {
                payload = default;
                fin = false;
                segLen = 0;
                forceAck = true;
            }
            else if (_o.ProcessAckOfOldSegments && !rst && !syn && (flags & TcpFlags.Ack) != 0 && seq < _rcv.Nxt)
            {
                // BSD (tcp_input: "keep on processing for RST or ACK"): an old duplicate still carries
                // a current ACK field. Its text and FIN go; its ACK is taken, then answered with an ACK.
                payload = default;
                fin = false;
                segLen = 0;
                forceAck = true;
                oldSegment = true;
            }
            else
            {
                if (!rst) SendAck(now, challenge: syn);
                return;
            }
        }
        if (_tsOk && seg.Options.HasTimestamps && seq <= _lastAckSent && unchecked((int)(seg.Options.TsVal - _tsRecent)) >= 0)
        {
            _tsRecent = seg.Options.TsVal;
        }
        TouchKeepAlive(now);
        EcnArrival(in seg, payload.Length, now);

        // Second: the RST bit.
        if (rst)
        {
            if (_o.Rfc5961Rst && seq != _rcv.Nxt)
            {
                SendChallengeAck(now); // RFC 5961 3.2: in window but not exact
                return;
            }
            AcceptReset();
            return;
        }

        // Fourth: the SYN bit (the third, security, is not used).
        if (syn)
        {
            if (State == TcpState.SynReceived && _passiveOpen)
            {
                ReturnToListen("rcv SYN in SYN-RECEIVED");
                return;
            }
            if (_o.Rfc5961Syn)
            {
                SendChallengeAck(now); // RFC 5961 4.2
                return;
            }
            SendAbortReset();
            EnterClosed("rcv SYN in window: RST", TcpError.ConnectionReset);
            return;
        }

        // Fifth: the ACK field.
        if ((flags & TcpFlags.Ack) == 0) return;
        var ack = seg.Ack;

        if (State == TcpState.SynReceived)
        {
            if (!(ack > _sndUna && ack <= _sndMax))
            {
                SendReset(ack);
                return;
            }
            _retries = 0;
            SetState(TcpState.Established, "rcv ACK of SYN");
            _sndWnd = (uint)seg.Window << _sndShift;
            _sndMaxWnd = Math.Max(_sndMaxWnd, _sndWnd);
            _sndWl1 = seq;
            _sndWl2 = ack;
            Connected(now);
        }

        // RFC 5961 5.2: an ACK must fall in [SND.UNA - MAX.SND.WND, SND.MAX]; anything else is answered and dropped.
        if (ack > _sndMax || ack < _sndUna - (int)Math.Min(_sndMaxWnd, int.MaxValue))
        {
            SendChallengeAck(now);
            return;
        }

        bool finInOrder = fin && seq + payload.Length == _rcv.Nxt;
        switch (State)
        {
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
            case TcpState.Closing:
                ProcessAck(in seg, payload.Length, now);
                if (State == TcpState.FinWait1 && OurFinAcked && !finInOrder)
                {
                    SetState(TcpState.FinWait2, "rcv ACK of FIN");
                    if (_orphaned) _finWait2At = now + _o.FinWait2Timeout;
                }
                if (State == TcpState.Closing)
                {
                    if (OurFinAcked) EnterTimeWait(now, "rcv ACK of FIN", ackFin: false);
                    else if (oldSegment) SendAck(now);
                    return;
                }
                break;
            case TcpState.LastAck:
                ProcessAck(in seg, payload.Length, now);
                if (OurFinAcked) EnterClosed("rcv ACK of FIN", TcpError.None);
                else if (oldSegment) SendAck(now);
                return;
        }

        // Seventh: the segment text (the sixth, URG, is not used: RFC 6093 discourages it).
        bool ackNow = false;
        if (payload.Length > 0 && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)
        {
            if (!ReceiveText(seq, payload, out ackNow))
            {
                if (ackNow && State != TcpState.Closed) SendAck(now);
                return;
            }
        }

        // Eighth: the FIN bit, taken only in order (after all data before it), and only once.
        if (fin && _rcv.FinReceived)
        {
            SendAck(now);
            return;
        }
        if (fin && seq + payload.Length == _rcv.Nxt)
        {
            _rcv.TakeFin();
            Raise(ConnectionEvent.PeerClosed);
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    SetState(TcpState.CloseWait, "rcv FIN");
                    if (!ackNow && _o.DelayAckOfFin && _o.DelayedAck) ScheduleDelayedAck(now);
                    else SendAck(now);
                    return;
                case TcpState.FinWait1:
                    if (OurFinAcked)
                    {
                        EnterTimeWait(now, "rcv FIN+ACK");
                    }
                    else
                    {
                        SetState(TcpState.Closing, "rcv FIN (simultaneous close)");
                        SendAck(now);
                    }
                    return;
                case TcpState.FinWait2:
                    EnterTimeWait(now, "rcv FIN");
                    return;
                default:
                    SendAck(now);
                    return;
            }
        }
        if (ackNow || forceAck) SendAck(now);
        else if (payload.Length > 0 && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2) ScheduleDelayedAck(now);
    }

    /// <summary>TIME-WAIT's rules live in <see cref="TimeWaitState"/>, the same ones a host applies once it has let the connection go.</summary>
    private void ArriveInTimeWait(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        var tw = TimeWait!;
        var verdict = tw.Handle(in seg, payloadLength, now, allowReopen: false, out var reply, out bool send);
        if (send) Transmit(in reply, default, TcpOptionLayout.Established);
        _timeWaitAt = tw.Expires;
        if (verdict != TimeWaitVerdict.Close) return;
        if (seg.Flags.Has(TcpFlags.Rst)) EnterClosed("rcv RST", TcpError.None);
        else EnterClosed("rcv SYN in window: RST", TcpError.ConnectionReset);
    }

    private bool OurFinAcked => _finQueued && _sndUna == _sndBufSeq + _sendBuf.Count + 1;


    private void AcceptReset()
    {
        switch (State)
        {
            case TcpState.SynReceived:
                if (_passiveOpen) ReturnToListen("rcv RST in SYN-RECEIVED");
                else EnterClosed("rcv RST: connection refused", TcpError.ConnectionRefused);
                break;
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
                _sendBuf.Discard(_sendBuf.Count);
                EnterClosed("rcv RST", TcpError.ConnectionReset);
                break;
            case TcpState.Closing:
            case TcpState.LastAck:
                // The application has shut down sending but may still hold the socket: it is told, as
                // Linux and BSD tell it (RFC 9293 only deletes the TCB).
                EnterClosed("rcv RST", TcpError.ConnectionReset);
                break;
        }
    }

    private void ProcessAck(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        var ack = seg.Ack;
        if (_sackOk && seg.Options.SackBlockCount > 0 && _sndMax > _sndUna) RecordSacks(in seg.Options);
        // RFC 5681 2: a duplicate ACK acknowledges nothing new, carries nothing, leaves the window as it was.
        bool duplicate = ack == _sndUna && _sndMax > _sndUna && payloadLength == 0
            && (seg.Flags & (TcpFlags.Syn | TcpFlags.Fin)) == 0 && ((uint)seg.Window << _sndShift) == _sndWnd;
        if (ack > _sndUna)
        {
            int acked = ack - _sndUna;
            if (_tsOk && seg.Options.HasTimestamps && seg.Options.TsEcr != 0) SampleFromTimestamp(seg.Options.TsEcr, now);
            else if (_rttTiming && ack > _rttSeq)
            {
                _rttTiming = false;
                _rto.Sample(now - _rttStart);
            }
            _sndUna = ack;
            if (_sndNxt < _sndUna) _sndNxt = _sndUna;
            _retries = 0;
            int dataAcked = Math.Clamp(ack - _sndBufSeq, 0, _sendBuf.Count);
            if (dataAcked > 0)
            {
                _sendBuf.Discard(dataAcked);
                _sndBufSeq += dataAcked;
                Raise(ConnectionEvent.SendSpaceAvailable);
            }
            _scoreboard?.Advance(_sndUna);
            if (_inRecovery)
            {
                if (ack >= _recover) ExitRecovery();
                else PartialAck(acked, now);
            }
            else if (dataAcked > 0)
            {
                _cc.OnAck((uint)dataAcked); // SYN and FIN do not open the window
            }
            _dupAcks = 0;
            if (_sndUna == _sndMax) _rtxAt = Never;
            else _rtxAt = now + _rto.Rto; // RFC 6298 5.3
        }
        else if (duplicate && _o.FastRetransmit)
        {
            DuplicateAck(now);
        }
        // The send window moves only on a segment newer than the one that last set it.
        if (_sndWl1 < seg.Seq || (_sndWl1 == seg.Seq && _sndWl2 <= ack))
        {
            _sndWnd = (uint)seg.Window << _sndShift;
            _sndMaxWnd = Math.Max(_sndMaxWnd, _sndWnd);
            _sndWl1 = seg.Seq;
            _sndWl2 = ack;
        }
        if (_sndWnd > 0)
        {
            _persistAt = Never;
            _persistProbes = 0;
        }
        else if (_persistAt != Never)
        {
            _persistProbes = 0; // the peer is alive and answering our probes
        }
        Output(now);
    }

    /// <summary>Step seven's text for the receiver; an application that has closed cannot take it.</summary>
    private bool ReceiveText(SeqNum seq, ReadOnlySpan<byte> payload, out bool ackNow)
    {
        if (_orphaned)
        {
            // The application has closed and cannot read this: tell the peer at once (RFC 1122 4.2.2.13).
            ackNow = false;
            SendAbortReset();
            EnterClosed("rcv data after user CLOSE: RST", TcpError.None);
            return false;
        }
        bool inOrder = _rcv.TakeText(seq, payload, AcceptanceWindow, out int committed, out ackNow);
        if (committed > 0) Raise(ConnectionEvent.DataReadable);
        return inOrder;
    }

    private void NegotiateFromSyn(in TcpHeader seg)
    {
        ref readonly var o = ref seg.Options;
        _wsOk = _o.WindowScaling && o.HasWindowScale;
        _sndShift = _wsOk ? Math.Min(o.WindowScale, (byte)14) : (byte)0; // RFC 7323 2.3: larger means 14
        _rcv.Shift = _wsOk ? _o.EffectiveWindowScale : (byte)0;
        _sackOk = _o.Sack && o.SackPermitted;
        _tsOk = _o.Timestamps && o.HasTimestamps;
        if (_tsOk) _tsRecent = o.TsVal;
        EcnFromSyn(in seg);
        int peerMss = o.HasMss ? o.Mss : (Tuple.RemoteAddress.IsV6 ? 1220 : _o.DefaultPeerMss);
        _sndMss = Math.Max(64, Math.Min(peerMss, (int)_o.AnnouncedMss(Tuple.RemoteAddress.IsV6)) - (_tsOk ? 12 : 0));
        _rcv.Mss = Math.Min(536, _sndMss);
        _rcv.SackOk = _sackOk;
        if (_o.RoundReceiveBufferToMss)
        {
            // BSD's tcp_mss(): the receive buffer becomes a whole number of segments.
            int mss = Math.Min(peerMss, (int)_o.AnnouncedMss(Tuple.RemoteAddress.IsV6));
            _rcv.Buffer.TryResize((_o.ReceiveBufferSize + mss - 1) / mss * mss);
        }
        _cc.Start(_sndMss);
    }

    private void ReturnToListen(string cause)
    {
        ClearTimers();
        _rcv.Forget();
        _iss = default;
        _sndUna = _sndNxt = _sndMax = _sndBufSeq = default;
        _sendBuf.Discard(_sendBuf.Count);
        _finQueued = false;
        _retries = 0;
        SetState(TcpState.Listen, cause);
        Raise(ConnectionEvent.HalfOpenDropped);
    }

    /// <summary>TIME-WAIT: reached by the peer's FIN (which we acknowledge now) or, from CLOSING, by the ACK of ours.</summary>
    private void EnterTimeWait(TimeSpan now, string cause, bool ackFin = true)
    {
        ClearTimers();
        SetState(TcpState.TimeWait, cause);
        if (ackFin) SendAck(now);
        _timeWaitAt = now + 2 * _o.Msl;
    }

    private void Connected(TimeSpan now)
    {
        _keepAliveAt = _o.KeepAlive ? now + _o.KeepAliveIdle : Never;
        Raise(ConnectionEvent.Connected);
        if (_finQueued && State == TcpState.Established) SetState(TcpState.FinWait1, "queued CLOSE");
        Output(now);
    }

    private void TouchKeepAlive(TimeSpan now)
    {
        _keepAliveProbes = 0;
        if (_o.KeepAlive && _keepAliveAt != Never && State.IsSynchronized() && State != TcpState.SynReceived) _keepAliveAt = now + _o.KeepAliveIdle;
    }

    private void SampleFromTimestamp(uint tsEcr, TimeSpan now)
    {
        uint sentMs = unchecked(tsEcr - _tsOffset);
        uint nowMs = TimestampClock.Milliseconds(now);
        int rttMs = unchecked((int)(nowMs - sentMs));
        if (rttMs >= 0) _rto.Sample(TimeSpan.FromMilliseconds(Math.Max(rttMs, 1)));
    }
}
