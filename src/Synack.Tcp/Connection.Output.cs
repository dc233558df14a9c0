using Synack.Wire;

namespace Synack.Tcp;

// Segments out: SYN, ACK, RST, data and FIN; the window we advertise; what the peer may still send us.
public sealed partial class Connection
{
    private void SendSyn(TimeSpan now, bool ack, SeqNum? seq = null)
    {
        var h = NewHeader(seq ?? _iss, (ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn) | EcnSynFlags(ack), now, syn: true);
        if (_retries == 0)
        {
            _rttTiming = true;
            _rttSeq = _iss;
            _rttStart = now;
        }
        if (ack) _rcv.AdvertisedEdge = _rcv.Nxt + h.Window;
        Transmit(in h, default, _o.SynOptionLayout);
    }

    private void SendAck(TimeSpan now, bool challenge = false)
    {
        var seq = AckSeq;
        var flags = TcpFlags.Ack;
        if (_o.RepeatFinUntilAcked && !challenge && State is TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck
            && _finQueued && _sndMax == _sndBufSeq + _sendBuf.Count + 1)
        {
            // BSD's tcp_output: while our FIN is unacknowledged every segment carries it again, at its own number.
            seq = _sndMax - 1;
            flags |= TcpFlags.Fin;
        }
        var h = NewHeader(seq, flags, now, syn: false);
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
            if (State is TcpState.SynSent or TcpState.SynReceived || _sndWnd == 0 && _sndMax == _sndUna) return _sndMax;
            var windowEnd = _sndUna + _sndWnd;
            return _sndMax <= windowEnd ? _sndMax : SeqNum.Max(windowEnd, _sndNxt);
        }
    }

    private void SendChallengeAck(TimeSpan now)
    {
        if (_challengeAcks.TryTake(now)) SendAck(now, challenge: true);
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
    private void SendAbortReset()
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = _sndMax,
            Flags = TcpFlags.Rst,
        };
        if (_o.ResetCarriesAck)
        {
            h.Flags |= TcpFlags.Ack;
            h.Ack = _rcv.Nxt;
        }
        Transmit(in h, default, TcpOptionLayout.Established);
    }

    private void ScheduleDelayedAck(TimeSpan now)
    {
        if (_delAckAt == Never) _delAckAt = now + _o.DelayedAckTimeout;
    }

    /// <summary>
    /// Sends what the windows allow: new data in MSS-sized segments from SND.NXT, then the FIN once
    /// every byte before it has gone. After a retransmission timeout SND.NXT is back at SND.UNA, so
    /// the same loop retransmits (go-back-N), paced by the congestion window.
    /// </summary>
    private void Output(TimeSpan now)
    {
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        while (true)
        {
            var dataEnd = _sndBufSeq + _sendBuf.Count;
            uint window = Math.Min(_sndWnd, _cc.Window);
            var windowEdge = _sndUna + window;
            if (_sndNxt < dataEnd)
            {
                int unsent = dataEnd - _sndNxt;
                int allowed = windowEdge - _sndNxt;
                int len = Math.Min(Math.Min(unsent, _sndMss), Math.Max(allowed, 0));
                if (len <= 0)
                {
                    if (_sndWnd == 0 && _sndUna == _sndMax && _persistAt == Never) _persistAt = now + _rto.Rto;
                    return;
                }
                bool last = len == unsent;
                if (len < _sndMss && _sndNxt >= _sndMax)
                {
                    // Sender silly window avoidance (RFC 9293 3.8.6.2.1): a window-limited sliver waits
                    // until a full segment or half the largest window the peer offered fits, as long as
                    // an ACK is still to come to wake us (with nothing in flight it goes, or nothing would).
                    if (!last && len < _sndMaxWnd / 2 && _sndUna != _sndMax) return;
                    // Nagle: a small segment waits while earlier data is unacknowledged, unless it ends the
                    // stream. Minshall's variant (Linux) waits only for an earlier *small* segment, so the
                    // tail of a bulk write does not sit out the peer's delayed ACK.
                    bool held = _o.NagleMinshall ? _smallSent && _smallEnd > _sndUna : _sndUna != _sndMax;
                    if (_o.Nagle && held && !(last && _finQueued)) return;
                }
                bool fin = last && _finQueued;
                SendData(_sndNxt, len, fin, now);
                continue;
            }
            if (_finQueued && _sndNxt == dataEnd)
            {
                SendData(_sndNxt, 0, fin: true, now);
            }
            return;
        }
    }

    /// <param name="advance">False for a retransmission out of line (fast retransmit): SND.NXT stays where it is.</param>
    private void SendData(SeqNum seq, int len, bool fin, TimeSpan now, bool advance = true)
    {
        var flags = TcpFlags.Ack;
        if (len > 0 && seq + len == _sndBufSeq + _sendBuf.Count) flags |= TcpFlags.Psh;
        if (fin) flags |= TcpFlags.Fin;
        var h = NewHeader(seq, flags, now, syn: false);
        if (_scratch.Length < len) _scratch = new byte[Math.Max(len, _sndMss)];
        int offset = seq - _sndBufSeq;
        _sendBuf.Peek(offset, _scratch.AsSpan(0, len));
        bool isNew = seq >= _sndMax;
        if (!isNew) RetransmittedSegments++;
        if (isNew && !_rttTiming && !_tsOk)
        {
            _rttTiming = true;
            _rttSeq = seq;
            _rttStart = now;
        }
        EcnDeparture(ref h, len, isNew);
        var end = seq + len + (fin ? 1 : 0);
        if (isNew && len > 0 && len < _sndMss)
        {
            _smallSent = true;
            _smallEnd = seq + len;
        }
        if (advance) _sndNxt = end;
        if (end > _sndMax) _sndMax = end;
        if (_rtxAt == Never) _rtxAt = now + _rto.Rto;
        Transmit(in h, _scratch.AsSpan(0, len), TcpOptionLayout.Established);
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
        if ((flags & TcpFlags.Ack) != 0) h.Ack = _rcv.Nxt;
        if (syn)
        {
            bool synAck = (flags & TcpFlags.Ack) != 0;
            if (!synAck && _o.DropSynOptionsAfterRetries is int after && _retries >= after)
            {
                h.Window = (ushort)Math.Min(_rcv.Buffer.Free, 65535);
                h.Options.HasMss = _o.SendMssOption;
                h.Options.Mss = SynMss;
                return h;
            }
            h.Window = (ushort)Math.Min(_rcv.Buffer.Free, 65535);
            h.Options.HasMss = _o.SendMssOption;
            h.Options.Mss = SynMss;
            // In a SYN-ACK an option is echoed only if the peer's SYN offered it (RFC 7323, RFC 2018).
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
                h.Options.TsEcr = synAck ? _tsRecent : 0;
            }
        }
        else
        {
            h.Window = _rcv.WindowField(_sndMss);
            if (_tsOk)
            {
                h.Options.HasTimestamps = true;
                h.Options.TsVal = TimestampClock.Value(now, _tsOffset);
                h.Options.TsEcr = _tsRecent;
            }
            if ((flags & TcpFlags.Ack) != 0 && (flags & TcpFlags.Rst) == 0) _rcv.WriteSacks(ref h.Options);
        }
        return h;
    }

    private void Transmit(in TcpHeader h, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        if ((h.Flags & TcpFlags.Ack) != 0 && (h.Flags & TcpFlags.Rst) == 0)
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
