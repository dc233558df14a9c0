using Synack.Wire;

namespace Synack.Tcp;

// SEGMENT ARRIVES: RFC 9293 section 3.10.7, with RFC 5961 (RST, SYN and ACK checks) and RFC 7323 (PAWS).
public sealed partial class Connection
{
    /// <summary>Processes one arriving segment (already checksummed and demultiplexed to this connection).</summary>
    public void OnSegment(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now) => OnSegment(in seg, payload, now, 0);

    /// <summary>
    /// Processes one arriving segment that may stand for several (GRO): <paramref name="segmentSize"/>
    /// is the size the sender cut its data into (0: this is one segment), so the peer's segment size
    /// and the count behind the ACK policy are the real ones, not the joined packet's.
    /// </summary>
    public void OnSegment(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now, int segmentSize)
    {
        using var _ = Enter();
        _arrivalSegmentSize = segmentSize;
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
        if (seg.Flags.Has(TcpFlags.Rst)) return;
        if (seg.Flags.Has(TcpFlags.Ack))
        {
            SendReset(seg.Ack);
            return;
        }
        if (!seg.Flags.Has(TcpFlags.Syn)) return;

        // A listener that was opened without a remote address takes the SYN's.
        if (Tuple.RemotePort == 0) Tuple = Tuple with { RemotePort = seg.SourcePort };
        _rcv.Synchronize(seg.Seq);
        NegotiateFromSyn(in seg);
        ChooseIss(now);
        _snd.SetWindow(in seg, scaled: false); // never scaled in a SYN
        _retries = 0;
        // Data on a SYN is not taken (RCV.NXT covers only the SYN); the peer sends it again once synchronized.
        SendSyn(now, ack: true);
        SetState(TcpState.SynReceived, "rcv SYN");
        ArmRetransmission(now);
    }

    private void ArriveInSynSent(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        bool hasAck = seg.Flags.Has(TcpFlags.Ack);
        if (hasAck && (seg.Ack <= _snd.Iss || seg.Ack > _snd.Max))
        {
            // RFC 9293 figure 9: a SYN-ACK for an old incarnation. Our RST (seq = its ACK) tells the
            // peer to drop that half-open connection; our own SYN stays outstanding.
            if (!seg.Flags.Has(TcpFlags.Rst))
            {
                SendReset(seg.Ack);
                // Linux: our RST or the peer's answer may be lost, so the SYN goes again soon
                // (TCP_TIMEOUT_MIN), once, before its first retransmission.
                if (_o.ResendSynAfterBadSynAck is TimeSpan soon && _retries == 0) _snd.ArmRetransmissionAt(now + soon);
            }
            return;
        }
        if (seg.Flags.Has(TcpFlags.Rst))
        {
            if (hasAck) EnterClosed("rcv RST: connection refused", TcpError.ConnectionRefused);
            return;
        }
        if (!seg.Flags.Has(TcpFlags.Syn)) return;

        _rcv.Synchronize(seg.Seq);
        NegotiateFromSyn(in seg);
        _snd.SetWindow(in seg, scaled: false);
        if (hasAck)
        {
            _snd.Una = seg.Ack;
            if (_snd.Una > _snd.Iss) _snd.CountSyn(1);
            if (_retries == 0 && !_tsOk) _snd.Rto.Sample(now - _snd.TimingStart, _o); // Karn: only an unretransmitted SYN
            else if (_tsOk && seg.Options.HasTimestamps && RttFromTimestamp(seg.Options.TsEcr, now) is TimeSpan rtt) _snd.Rto.Sample(rtt, _o);
        }
        if (_snd.Una > _snd.Iss)
        {
            _retries = 0;
            _snd.StopRetransmissionTimer();
            SetState(TcpState.Established, "rcv SYN-ACK");
            _rcv.AdvertisedEdge = _rcv.Nxt; // let the first ACK advertise the scaled window
            SendAck(now);
            Connected(now);
            return;
        }
        // Simultaneous open: both SYNs crossed.
        // Linux's crossed-SYN path never clears the receive shift its own SYN offered, though the
        // peer's SYN did not agree to scaling: its windows go out shifted (tcp_rcv_synsent_state_process).
        if (_o.SimultaneousOpenLikeLinux && !_wsOk && _o.WindowScaling) _rcv.Shift = _o.EffectiveWindowScale;
        SetState(TcpState.SynReceived, "rcv SYN (simultaneous open)");
        SendSyn(now, ack: true, seq: _snd.Iss);
        ArmRetransmission(now);
    }

    /// <summary>
    /// One segment on its way through RFC 9293 3.10.7.4's steps: what is left of it as the checks trim
    /// it, and what it has decided about the ACK it owes.
    /// </summary>
    private ref struct Arrival(in TcpHeader seg, ReadOnlySpan<byte> payload)
    {
        public SeqNum Seq = seg.Seq;
        public SeqNum Ack = seg.Ack;
        public int SegLen = SegmentLength(seg.Flags, payload.Length);
        public bool Rst = seg.Flags.Has(TcpFlags.Rst);
        public bool Syn = seg.Flags.Has(TcpFlags.Syn);
        public bool Fin = seg.Flags.Has(TcpFlags.Fin);
        public ReadOnlySpan<byte> Payload = payload;
        /// <summary>The timestamp the segment echoes (0: none): the receiver's own round trip for autotuning.</summary>
        public uint TsEcr = seg.Options.HasTimestamps ? seg.Options.TsEcr : 0;
        /// <summary>Acknowledge it whatever the later steps decide (an old segment's or a zero window's ACK).</summary>
        public bool ForceAck;
        /// <summary>An old duplicate kept only for its ACK field (BSD's rule).</summary>
        public bool OldSegment;
        /// <summary>The text asks for an immediate ACK rather than a delayed one.</summary>
        public bool AckNow;

        /// <summary>Drops the text and FIN, keeping the ACK field.</summary>
        public void KeepOnlyAck()
        {
            Payload = default;
            Fin = false;
            SegLen = 0;
            ForceAck = true;
        }
    }

    private void ArriveSynchronized(in TcpHeader seg, ReadOnlySpan<byte> payload, TimeSpan now)
    {
        var a = new Arrival(in seg, payload);
        if (State == TcpState.SynReceived && RepeatedSyn(in seg, ref a, now)) return;
        if (!TimestampsAcceptable(in seg, a.Rst, a.Payload.Length, now)) return;
        if (!CheckSequence(in seg, ref a, now)) return;
        if (_o.SilentlyDropAckOfUnsentData && !a.Rst && State != TcpState.SynReceived
            && (seg.Flags & (TcpFlags.Ack | TcpFlags.Syn)) == TcpFlags.Ack && seg.Ack > _snd.Max)
        {
            // Linux (tcp_ack): an ACK of data never sent is discarded before its timestamp is taken;
            // since 6.18 (and 7.1) with a challenge ACK, as RFC 5961 5.2 asks for the upper edge too.
            if (_o.ChallengeAckOfUnsentData) SendChallengeAck(now);
            return;
        }
        if (_tsOk && seg.Options.HasTimestamps && a.Seq <= _lastAckSent && unchecked((int)(seg.Options.TsVal - _tsRecent)) >= 0)
        {
            _tsRecent = seg.Options.TsVal;
        }
        TouchKeepAlive(now);
        EcnArrival(in seg, a.Payload.Length, now);
        if (a.Rst)
        {
            ArriveRst(a.Seq, now);
            return;
        }
        if (a.Syn)
        {
            ArriveSyn(now);
            return;
        }
        if (!seg.Flags.Has(TcpFlags.Ack)) return; // fifth: a segment without ACK is dropped
        if (!ArriveAck(in seg, ref a, now)) return;
        if (!ArriveText(ref a, now)) return;
        ArriveFin(ref a, now);
    }

    /// <summary>The peer's SYN again while we are in SYN-RECEIVED. True when it has been answered.</summary>
    private bool RepeatedSyn(in TcpHeader seg, ref Arrival a, TimeSpan now)
    {
        if (!a.Syn || a.Rst || a.Seq != _rcv.Irs) return false;
        if (!seg.Flags.Has(TcpFlags.Ack))
        {
            // Linux and BSD answer a retransmitted SYN with the SYN-ACK again: ours was probably lost,
            // and a bare ACK (what step one would send) cannot help the peer. The SYN-ACK is then sent
            // twice, so the ACK of it times neither (Karn; Linux counts it in req->num_retrans).
            _snd.StopTiming();
            _synAckRepeated = true;
            SendSyn(now, ack: true, seq: _snd.Iss);
            return true;
        }
        if (!_passiveOpen)
        {
            // Simultaneous open (RFC 9293 figure 8, line 6): the peer's SYN-ACK repeats the SYN we already
            // took. Its SYN sits on sequence space already received, so trim it and take the rest as an ACK.
            a.Syn = false;
            a.Seq += 1;
            a.SegLen -= 1;
            if (_o.SimultaneousOpenLikeLinux)
            {
                // Linux (6.10 on) takes it too, and answers the SYN it already had as any duplicate: an
                // ACK at once, with a D-SACK block for the SYN's sequence number.
                _rcv.NoteDuplicate(_rcv.Irs, 1);
                a.ForceAck = true;
            }
        }
        return false;
    }

    /// <summary>RFC 7323: the timestamp checks before step one. False when the segment is dropped (maybe with an ACK).</summary>
    private bool TimestampsAcceptable(in TcpHeader seg, bool rst, int payloadLength, TimeSpan now)
    {
        if (!_tsOk || rst) return true;
        // 3.2: once timestamps are agreed, a segment without one SHOULD be dropped silently. Linux
        // tolerates it; BSD drops it.
        if (!seg.Options.HasTimestamps) return !_o.DropSegmentsWithoutTimestamps;
        // 5.3 (PAWS): a segment whose timestamp is older than TS.Recent is an old duplicate.
        if (unchecked((int)(seg.Options.TsVal - _tsRecent)) < 0)
        {
            SendInvalidAck(now, payloadLength);
            return false;
        }
        return true;
    }

    /// <summary>First: the sequence number check. False when the segment goes no further.</summary>
    private bool CheckSequence(in TcpHeader seg, ref Arrival a, TimeSpan now)
    {
        uint rcvWnd = AcceptanceWindow;
        if (_rcv.IsAcceptable(a.Seq, a.SegLen, rcvWnd)) return true;
        if (!a.Rst && !a.Syn) _rcv.NoteDuplicate(a.Seq, a.Payload.Length);
        // RFC 9293 3.10.7.4: with a zero window nothing is acceptable, but a valid ACK must still be
        // heard, or two peers with closed windows would never learn that the other's opened.
        if (rcvWnd == 0 && a.Seq == _rcv.Nxt && !a.Rst && !a.Syn)
        {
            a.KeepOnlyAck();
            return true;
        }
        if (_o.AcceptSegmentsReachingLastAck && !a.Rst && !a.Syn && seg.Flags.Has(TcpFlags.Ack) && a.Seq < _rcv.Nxt && a.Seq + a.SegLen >= _lastAckSent)
        {
            // Linux's tcp_sequence takes a segment that ends at or past the last ACK it sent (rcv_wup),
            // old text and all: its ACK field and timestamp are taken (TS.Recent moves, since it starts
            // at or before that ACK), then the text is answered as a duplicate, with a D-SACK.
            a.KeepOnlyAck();
            a.OldSegment = true;
            return true;
        }
        if (_o.ProcessAckOfOldSegments && !a.Rst && !a.Syn && seg.Flags.Has(TcpFlags.Ack) && a.Seq < _rcv.Nxt)
        {
            // BSD (tcp_input: "keep on processing for RST or ACK"): an old duplicate still carries
            // a current ACK field. Its text and FIN go; its ACK is taken, then answered with an ACK.
            a.KeepOnlyAck();
            a.OldSegment = true;
            return true;
        }
        if (a.Syn) SendChallengeAck(now); // RFC 5961 4.2, rate-limited as every challenge is (section 7)
        else if (!a.Rst) SendInvalidAck(now, a.Payload.Length);
        return false;
    }

    /// <summary>Second: the RST bit, of an acceptable segment.</summary>
    private void ArriveRst(SeqNum seq, TimeSpan now)
    {
        if (_o.Rfc5961Rst && seq != _rcv.Nxt)
        {
            SendChallengeAck(now); // RFC 5961 3.2: in window but not exact
            return;
        }
        AcceptReset();
    }

    /// <summary>Fourth: the SYN bit (the third, security, is not used).</summary>
    private void ArriveSyn(TimeSpan now)
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
        SendAbortReset(now);
        EnterClosed("rcv SYN in window: RST", TcpError.ConnectionReset);
    }

    /// <summary>Fifth: the ACK field. False when the segment goes no further.</summary>
    private bool ArriveAck(in TcpHeader seg, ref Arrival a, TimeSpan now)
    {
        var ack = seg.Ack;
        if (State == TcpState.SynReceived)
        {
            if (!(ack > _snd.Una && ack <= _snd.Max))
            {
                SendReset(ack);
                return false;
            }
            _retries = 0;
            SetState(TcpState.Established, "rcv ACK of SYN");
            if (_passiveOpen) _snd.CountSyn(-1); // ProcessAck below counts the SYN-ACK's sequence number back
            _snd.SetWindow(in seg, scaled: true);
            Connected(now);
        }

        // RFC 5961 5.2: an ACK must fall in [SND.UNA - MAX.SND.WND, SND.MAX]; anything else is answered and dropped.
        // Linux since 6.2 ("do not accept ACK of bytes we never sent") counts MAX.SND.WND only up to the
        // bytes acknowledged so far: before any, an ACK below SND.UNA is too old.
        uint oldest = _o.OldAckWithinBytesAcked ? (uint)Math.Min(_snd.MaxWnd, (ulong)Math.Max(0, _snd.BytesAcked)) : _snd.MaxWnd;
        if (ack > _snd.Max || ack < _snd.Una - (int)Math.Min(oldest, int.MaxValue))
        {
            SendChallengeAck(now);
            return false;
        }

        bool finInOrder = a.Fin && a.Seq + a.Payload.Length == _rcv.Nxt;
        switch (State)
        {
            case TcpState.Established:
            case TcpState.FinWait1:
            case TcpState.FinWait2:
            case TcpState.CloseWait:
            case TcpState.Closing:
                ProcessAck(in seg, a.Payload.Length, now);
                if (State == TcpState.FinWait1 && OurFinAcked && !finInOrder)
                {
                    if (_orphaned && FinWait2Timeout < TimeSpan.Zero)
                    {
                        // Linux's linger2 < 0: an orphan does not wait in FIN-WAIT-2; the ACK that would put
                        // it there is answered as a segment no socket takes (<SEQ=SEG.ACK><CTL=RST>).
                        SendReset(seg.Ack);
                        EnterClosed("rcv ACK of FIN, no FIN-WAIT-2 time: RST", TcpError.None);
                        return false;
                    }
                    SetState(TcpState.FinWait2, "rcv ACK of FIN");
                    if (_orphaned) OrphanedInFinWait2(now);
                }
                if (State == TcpState.Closing)
                {
                    if (OurFinAcked) EnterTimeWait(now, "rcv ACK of FIN", ackFin: false);
                    else if (a.OldSegment) SendAck(now);
                    return false;
                }
                return true;
            case TcpState.LastAck:
                ProcessAck(in seg, a.Payload.Length, now);
                if (OurFinAcked) EnterClosed("rcv ACK of FIN", TcpError.None);
                else if (a.OldSegment) SendAck(now);
                return false;
            default:
                return true;
        }
    }

    /// <summary>Seventh: the segment text (the sixth, URG, is not used: RFC 6093 discourages it). False when the segment goes no further.</summary>
    private bool ArriveText(ref Arrival a, TimeSpan now)
    {
        if (a.Payload.Length == 0 || State is not (TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2)) return true;
        if (ReceiveText(a.Seq, a.Ack, a.Payload, a.TsEcr, now, out a.AckNow)) return true;
        if (a.AckNow && State != TcpState.Closed) SendAck(now);
        return false;
    }

    /// <summary>Eighth: the FIN bit, taken only in order (after all data before it), and only once; then the ACK owed.</summary>
    private void ArriveFin(ref Arrival a, TimeSpan now)
    {
        if (a.Fin && _rcv.FinReceived)
        {
            SendAck(now);
            return;
        }
        if (a.Fin && a.Seq + a.Payload.Length == _rcv.Nxt)
        {
            _rcv.TakeFin();
            Raise(ConnectionEvent.PeerClosed);
            switch (State)
            {
                case TcpState.SynReceived:
                case TcpState.Established:
                    SetState(TcpState.CloseWait, "rcv FIN");
                    // Linux 6.18's tcp_fin enters pingpong mode before the ACK is decided: quickack no longer counts.
                    bool ackNow = a.AckNow && !(_o.FinEndsQuickAck && a.Payload.Length > 0 && _rcv.AckNowOnlyForQuickAck && !_rcv.MoreThanOneFullSegmentUnacked);
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
        if (a.AckNow || a.ForceAck) SendAck(now);
        else if (a.Payload.Length > 0 && State is TcpState.Established or TcpState.FinWait1 or TcpState.FinWait2) ScheduleDelayedAck(now);
    }

    /// <summary>TIME-WAIT's rules live in <see cref="TimeWaitState"/>, the same ones a host applies once it has let the connection go.</summary>
    private void ArriveInTimeWait(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        var tw = TimeWait!;
        var verdict = tw.Handle(in seg, payloadLength, now, allowReopen: false, out var reply, out bool send);
        if (send) Transmit(in reply, default, TcpOptionLayout.Established);
        _endAt = tw.Expires;
        if (verdict != TimeWaitVerdict.Close) return;
        if (seg.Flags.Has(TcpFlags.Rst)) EnterClosed("rcv RST", TcpError.None);
        else EnterClosed("rcv SYN in window: RST", TcpError.ConnectionReset);
    }

    private bool OurFinAcked => _snd.FinAcked;


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
                _snd.DropQueued();
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

    /// <summary>Step five for the sender: SND.UNA, the window, RTT, recovery; then whatever may now be sent.</summary>
    private void ProcessAck(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        bool echo = _tsOk && seg.Options.HasTimestamps && seg.Options.TsEcr != 0;
        uint? echoedMs = echo ? unchecked(seg.Options.TsEcr - _tsOffset) : null; // when the echoed segment left, on our clock
        long sacksRefused = _snd.SackBlocksRefused;
        int dataAcked = _snd.OnAck(in seg, payloadLength, echo, echo ? RttFromTimestamp(seg.Options.TsEcr, now) : null, now, out bool advanced, echoedMs);
        if (_snd.SackBlocksRefused != sacksRefused) _host.InputRefused(this, RefusedInput.SackBlock, (int)(_snd.SackBlocksRefused - sacksRefused));
        if (advanced) _retries = 0;
        _clock?.LastAckReceived = now;
        if (dataAcked > 0 && _sendBufferFull && _host.Pressure == MemoryPressure.None && !_o.SendBufferLikeLinux) _snd.ExpandBuffer();
        if (dataAcked > 0) Raise(ConnectionEvent.SendSpaceAvailable);
        // Linux's tcp_check_space: a writer that found no room gets a larger buffer if the congestion
        // window is not full (tcp_should_expand_sndbuf), then is woken if there is room now. It runs after
        // the push this ACK allows, but TCP small queues hold that burst back past its first packet until
        // the device takes it, so the kernel finds the window as the ACK left it: judged before the push.
        bool expand = _o.SendBufferLikeLinux && _sendBufferFull && !_snd.BufferLocked && _host.Pressure == MemoryPressure.None && _snd.Flight < _snd.Congestion.Window;
        Output(now);
        if (expand)
        {
            int before = _snd.BufferLimit;
            _snd.ExpandLimitLikeLinux();
            if (_snd.BufferLimit != before)
            {
                Raise(ConnectionEvent.SendSpaceAvailable);
                NoteSenderLimits(now);
            }
        }
    }

    /// <summary>Step seven's text for the receiver; an application that has closed cannot take it.</summary>
    private bool ReceiveText(SeqNum seq, SeqNum segAck, ReadOnlySpan<byte> payload, uint tsEcr, TimeSpan now, out bool ackNow)
    {
        if (_orphaned)
        {
            // The application has closed and cannot read this: tell the peer at once (RFC 1122 4.2.2.13),
            // with the reset a segment gets that no connection takes (<SEQ=SEG.ACK><CTL=RST>), as
            // Linux and BSD send it: the connection is gone by the time it goes.
            ackNow = false;
            SendReset(segAck);
            EnterClosed("rcv data after user CLOSE: RST", TcpError.None);
            return false;
        }
        if (_receiveShutdown && _o.ResetDataAfterReceiveShutdown && State is TcpState.FinWait1 or TcpState.FinWait2)
        {
            // Linux's tcp_rcv_state_process: RCV_SHUTDOWN in FIN-WAIT, data that cannot be read: reset
            // (tcp_reset: the application sees ECONNRESET), answered as a segment no socket takes.
            ackNow = false;
            SendReset(segAck);
            EnterClosed("rcv data after SHUT_RD in FIN-WAIT: RST", TcpError.ConnectionReset);
            return false;
        }
        if (_rcv.Buffer.StorageBytes == 0 && _host.Pressure == MemoryPressure.Exhausted)
        {
            // No buffer memory to be had: the text is dropped unacknowledged, and the peer's
            // retransmission tries again once memory is back (Linux prunes and drops the same way).
            _host.MemoryRefused(this);
            ackNow = false;
            return false;
        }
        long refusedBefore = _rcv.OutOfOrderRefused;
        bool inOrder = _rcv.TakeText(seq, payload, AcceptanceWindow, out int committed, out ackNow, _arrivalSegmentSize);
        if (_rcv.OutOfOrderRefused != refusedBefore) _host.InputRefused(this, RefusedInput.OutOfOrderSegment, 1);
        Clock.LastDataReceived = now;
        if (_tsOk && tsEcr != 0 && _o.ReceiveBufferMax is not null && RttFromTimestamp(tsEcr, now) is TimeSpan rtt) _rcv.Tuning.RttSample(rtt);
        if (committed > 0) Raise(ConnectionEvent.DataReadable);
        return inOrder;
    }

    private void NegotiateFromSyn(in TcpHeader seg)
    {
        ref readonly var o = ref seg.Options;
        _wsOk = _o.WindowScaling && o.HasWindowScale;
        _snd.Shift = _wsOk ? Math.Min(o.WindowScale, (byte)14) : (byte)0; // RFC 7323 2.3: larger means 14
        _rcv.Shift = _wsOk ? _o.EffectiveWindowScale : (byte)0;
        _sackOk = _o.Sack && o.SackPermitted;
        _tsOk = _o.Timestamps && o.HasTimestamps;
        if (_tsOk) _tsRecent = o.TsVal;
        EcnFromSyn(in seg);
        int peerMss = o.HasMss ? o.Mss : _o.PeerMssWithoutOption(Tuple.RemoteAddress.IsV6);
        _snd.Mss = Math.Max(64, Math.Min(peerMss, (int)_o.AnnouncedMss(Tuple.RemoteAddress.IsV6)) - (_tsOk ? 12 : 0));
        _snd.MssClamp = Math.Min(peerMss, (int)_o.AnnouncedMss(Tuple.RemoteAddress.IsV6));
        _rcv.Mss = Math.Min(536, _snd.Mss);
        _rcv.SackOk = _sackOk;
        if (_o.RoundReceiveBufferToMss)
        {
            // BSD's tcp_mss(): the receive buffer becomes a whole number of segments.
            int mss = Math.Min(peerMss, (int)_o.AnnouncedMss(Tuple.RemoteAddress.IsV6));
            _rcv.Buffer.TryResize((_o.ReceiveBufferSize + mss - 1) / mss * mss);
        }
        _snd.Congestion.Start(_snd.Mss);
        _snd.SackOk = _sackOk;
        _snd.TimeNewSegments = !_tsOk;
    }

    private void ReturnToListen(string cause)
    {
        ClearTimers();
        _synAckRepeated = false;
        _rcv.Forget();
        _snd.Forget();
        _retries = 0;
        SetState(TcpState.Listen, cause);
        Raise(ConnectionEvent.HalfOpenDropped);
    }

    /// <summary>TIME-WAIT: reached by the peer's FIN (which we acknowledge now) or, from CLOSING, by the ACK of ours.</summary>
    private void EnterTimeWait(TimeSpan now, string cause, bool ackFin = true)
    {
        bool fromTimeWaitSocket = State == TcpState.FinWait2 && _orphanWindow is not null && _o.TimeWaitWindowWraps;
        ClearTimers();
        SetState(TcpState.TimeWait, cause);
        // Linux answers an orphan's FIN-WAIT-2 from its TIME-WAIT socket, with that socket's window.
        if (ackFin) SendAck(now, window: fromTimeWaitSocket ? TimeWaitWindowField : null);
        _endAt = now + 2 * _o.Msl;
    }

    /// <summary>
    /// An orphan in FIN-WAIT-2 waits out the FIN-WAIT-2 timeout. Linux moves it into a TIME-WAIT socket
    /// at this point (tcp_time_wait with substate FIN_WAIT2), which keeps the receive window of the
    /// moment; its answers carry that window, unclamped (see <see cref="ConnectionOptions.TimeWaitWindowWraps"/>).
    /// </summary>
    private void OrphanedInFinWait2(TimeSpan now)
    {
        var timeout = FinWait2Timeout;
        if (_o.FinWait2TimeoutAtLeastRtos)
        {
            var rto = _snd.Rto.Rto;
            var floor = 4 * rto - rto / 2; // tcp_fin_time: (rto << 2) - (rto >> 1)
            if (timeout < floor) timeout = floor;
        }
        _endAt = now + timeout;
        _orphanWindow = _rcv.SelectedWindowLeft;
    }

    /// <summary>The window field of a Linux TIME-WAIT socket's ACK: its window shifted, the low 16 bits.</summary>
    internal ushort TimeWaitWindowField => (ushort)((ReceiveWindowUnclamped >> _rcv.Shift) & 0xFFFF);

    private void Connected(TimeSpan now)
    {
        _establishedAt = now;
        if (_o.SendBufferLikeLinux && !_snd.BufferLocked) _snd.ExpandLimitLikeLinux(); // tcp_init_buffer_space
        if (_o.RtoWithoutHandshakeSample is TimeSpan fallback) _snd.Rto.NoHandshakeSample(fallback, _o);
        _heardAt = now;
        _keepAliveAt = KeepAliveOn ? now + KeepAliveIdle : Never;
        Raise(ConnectionEvent.Connected);
        if (_snd.FinQueued && State == TcpState.Established) SetState(TcpState.FinWait1, "queued CLOSE");
        Output(now);
    }

    private void TouchKeepAlive(TimeSpan now)
    {
        _keepAliveProbes = 0;
        _heardAt = now;
        if (_keepAliveAt != Never && State.IsSynchronized() && State != TcpState.SynReceived && KeepAliveOn) _keepAliveAt = now + KeepAliveIdle;
    }

    /// <summary>The round trip a TSecr gives (RFC 7323 4.1), or null when the echo is from the future.</summary>
    private TimeSpan? RttFromTimestamp(uint tsEcr, TimeSpan now)
    {
        uint sentMs = unchecked(tsEcr - _tsOffset);
        uint nowMs = TimestampClock.Milliseconds(now);
        int rttMs = unchecked((int)(nowMs - sentMs));
        return rttMs >= 0 ? TimeSpan.FromMilliseconds(Math.Max(rttMs, 1)) : null;
    }
}
