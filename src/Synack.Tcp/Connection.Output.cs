using Synack.Wire;

namespace Synack.Tcp;

// Segments out: SYN, ACK, RST, data and FIN; the window we advertise; what the peer may still send us.
public sealed partial class Connection
{
    private bool _synAckRepeated; // a repeated SYN made us send the SYN-ACK again: the handshake's ACK times nothing

    private void SendSyn(TimeSpan now, bool ack, SeqNum? seq = null)
    {
        var h = NewHeader(seq ?? _snd.Iss, (ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn) | EcnSynFlags(ack), now, syn: true);
        if (_retries == 0 && !_synAckRepeated) _snd.StartTiming(_snd.Iss, now);
        if (ack) _rcv.AdvertisedEdge = _rcv.Nxt + h.Window;
        Transmit(in h, default, _o.SynOptionLayout);
    }

    /// <param name="window">The window field to send instead of the connection's own (a Linux TIME-WAIT socket's).</param>
    private void SendAck(TimeSpan now, bool challenge = false, ushort? window = null)
    {
        var seq = _snd.AckSeq(handshaking: State is TcpState.SynSent or TcpState.SynReceived);
        var flags = TcpFlags.Ack;
        if (_o.RepeatFinUntilAcked && !challenge && State is TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck && _snd.FinSent)
        {
            // BSD's tcp_output: while our FIN is unacknowledged every segment carries it again, at its own number.
            seq = _snd.Max - 1;
            flags |= TcpFlags.Fin;
        }
        var h = NewHeader(seq, flags, now, syn: false);
        if (window is ushort w) h.Window = w;
        EcnDeparture(ref h, 0, isNewData: false);
        Transmit(in h, default, TcpOptionLayout.Established);
    }

    /// <summary>
    /// The sequence number of a bare ACK: the highest sent (SND.MAX, Linux's snd_nxt), so that after a
    /// go-back-N rewind an ACK does not look like a step backwards; but never past the peer's window.
    /// </summary>
    private SeqNum AckSeq
    {
        get
        {
            if (State is TcpState.SynSent or TcpState.SynReceived || _snd.Wnd == 0 && _snd.Max == _snd.Una) return _snd.Max;
            var windowEnd = _snd.Una + _snd.Wnd;
            return _snd.Max <= windowEnd ? _snd.Max : SeqNum.Max(windowEnd, _snd.Nxt);
        }
    }

    /// <summary>
    /// The duplicate ACK owed to an unacceptable segment (out of window, or PAWS): always for one with
    /// data, at most one per <see cref="ConnectionOptions.InvalidAckRateLimit"/> for a bare one.
    /// </summary>
    private void SendInvalidAck(TimeSpan now, int payloadLength)
    {
        if (payloadLength == 0 && _o.InvalidAckRateLimit is TimeSpan interval
            && !(_challengeAcks ??= new ChallengeAckLimiter(_o.ChallengeAckLimit)).TryTakeInvalid(now, interval)) return;
        SendAck(now);
    }

    private void SendChallengeAck(TimeSpan now)
    {
        var limiter = _challengeAcks ??= new ChallengeAckLimiter(_o.ChallengeAckLimit);
        // Linux checks the socket's own out-of-window ACK limit first (last_oow_ack_time, shared with
        // the duplicate ACKs for invalid segments): one challenge ACK per 500 ms.
        if (_o.ChallengeAckUnderInvalidAckLimit && _o.InvalidAckRateLimit is TimeSpan interval && !limiter.TryTakeInvalid(now, interval)) return;
        if (limiter.TryTake(now)) SendAck(now, challenge: true);
    }

    private void SendReset(SeqNum seq)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = seq,
            Flags = TcpFlags.Rst,
        };
        Transmit(in h, default, TcpOptionLayout.Established);
    }

    /// <summary>
    /// The RST of a synchronized connection we abort: at SND.NXT, and (as Linux and BSD send it) with
    /// the ACK bit and RCV.NXT, so the peer can match it to the connection whatever it has in flight.
    /// </summary>
    private void SendAbortReset(TimeSpan now)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = _snd.Max,
            Flags = TcpFlags.Rst,
        };
        if (_o.ResetCarriesAck)
        {
            h.Flags |= TcpFlags.Ack;
            h.Ack = _rcv.Nxt;
        }
        if (_o.AbortResetLikeAnySegment)
        {
            // Linux's tcp_send_active_reset goes through tcp_transmit_skb: the window and the
            // timestamps of any segment of the connection.
            h.Window = _rcv.WindowField(_snd.Mss, _host.Pressure != MemoryPressure.None);
            if (_tsOk)
            {
                h.Options.HasTimestamps = true;
                h.Options.TsVal = TimestampClock.Value(now, _tsOffset);
                h.Options.TsEcr = _tsRecent;
            }
        }
        Transmit(in h, default, TcpOptionLayout.Established);
    }

    private void ScheduleDelayedAck(TimeSpan now)
    {
        // Linux's ato is 0 until the first data sets it (tcp_event_data_recv): an ACK owed before then
        // (for a FIN, say) goes at the next tick.
        if (_delAckAt == Never) _delAckAt = now + (_o.AckAtOnceBeforeFirstData && !_rcv.AckTimeoutStarted ? TimeSpan.Zero : _o.DelayedAckTimeout);
    }

    /// <summary>The sender sends what the windows allow, in the states where data and FIN may go.</summary>
    private void Output(TimeSpan now)
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        _snd.Output(now);
        NoteSenderLimits(now);
    }

    void ISegmentOutput.SendSegment(SeqNum seq, TcpFlags flags, ReadOnlySpan<byte> payload, bool isNewData, TimeSpan now)
    {
        // Linux's tcp_event_data_sent: data sent within ato of the last data received is a reply, and
        // a reply makes the connection interactive (pingpong): its quick ACKs stop.
        if (_o.PingPongThreshold is not null && payload.Length > 0 && _rcv.DataArrived && now - Clock.LastDataReceived < _o.DelayedAckTimeout) _rcv.PingPong++;
        var h = NewHeader(seq, flags, now, syn: false);
        if (payload.Length > 0) _ = Clock; // the chronograph starts with the first data
        EcnDeparture(ref h, payload.Length, isNewData);
        Transmit(in h, payload, TcpOptionLayout.Established);
    }

    private TcpHeader NewHeader(SeqNum seq, TcpFlags flags, TimeSpan now, bool syn)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = seq,
            Flags = flags,
        };
        if (flags.Has(TcpFlags.Ack)) h.Ack = _rcv.Nxt;
        if (syn)
        {
            bool synAck = flags.Has(TcpFlags.Ack);
            if (!synAck && _o.DropSynOptionsAfterRetries is int after && _retries >= after)
            {
                h.Window = _rcv.SynWindow();
                h.Options.HasMss = _o.SendMssOption;
                h.Options.Mss = SynMss;
                return h;
            }
            _rcv.AnnouncedMss = SynMss;
            // Linux sizes a passive open's window in segments of the MSS less the timestamp option
            // (tcp_openreq_init_rwin); an active open knows of no timestamps yet (tcp_connect_init).
            _rcv.WindowMss = SynMss - (synAck && _passiveOpen && _tsOk ? 12 : 0);
            h.Window = _rcv.SynWindow();
            h.Options.HasMss = _o.SendMssOption;
            h.Options.Mss = SynMss;
            // In a SYN-ACK an option is echoed only if the peer's SYN offered it (RFC 7323, RFC 2018);
            // Linux's SYN-ACK of a simultaneous open is its SYN again (tcp_send_synack: tcp_syn_options).
            if (synAck && _o.SimultaneousOpenLikeLinux && !_passiveOpen) synAck = false;
            if (_o.WindowScaling && (!synAck || _wsOk))
            {
                h.Options.HasWindowScale = true;
                h.Options.WindowScale = _o.EffectiveWindowScale;
            }
            h.Options.SackPermitted = _o.Sack && (!synAck || _sackOk);
            if (_o.Timestamps && (!synAck || _tsOk))
            {
                h.Options.HasTimestamps = true;
                h.Options.TsVal = TimestampClock.Value(now, _tsOffset);
                h.Options.TsEcr = flags.Has(TcpFlags.Ack) ? _tsRecent : 0;
            }
        }
        else
        {
            h.Window = _rcv.WindowField(_snd.Mss, _host.Pressure != MemoryPressure.None);
            if (_tsOk)
            {
                h.Options.HasTimestamps = true;
                h.Options.TsVal = TimestampClock.Value(now, _tsOffset);
                h.Options.TsEcr = _tsRecent;
            }
            if (flags.Has(TcpFlags.Ack) && !flags.Has(TcpFlags.Rst)) _rcv.WriteSacks(ref h.Options);
        }
        return h;
    }

    private void Transmit(in TcpHeader h, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        if (h.Flags.Has(TcpFlags.Ack) && !h.Flags.Has(TcpFlags.Rst))
        {
            // Every ACK we send carries RCV.NXT: any pending delayed ACK is now answered.
            _lastAckSent = h.Ack;
            _delAckAt = Never;
            _rcv.AckSent();
        }
        if (Dscp != 0 || HopLimit != 0)
        {
            var marked = h;
            marked.Dscp = Dscp;
            marked.HopLimit = HopLimit;
            _host.Transmit(this, in marked, payload, layout);
            return;
        }
        _host.Transmit(this, in h, payload, layout);
    }
}
