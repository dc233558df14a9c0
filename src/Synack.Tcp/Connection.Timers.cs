using Synack.Wire;

namespace Synack.Tcp;

// The six timers: retransmission (SYN, SYN-ACK, data, FIN), delayed ACK, persist (zero window),
// keep-alive, TIME-WAIT (2 MSL) and FIN-WAIT-2 for connections the application has closed.
public sealed partial class Connection
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    private TimeSpan _rtxAt, _delAckAt, _persistAt, _keepAliveAt, _timeWaitAt, _finWait2At;

    /// <summary>When <see cref="OnTimer"/> must next be called; <see cref="TimeSpan.MaxValue"/> for never.</summary>
    public TimeSpan NextDeadline
    {
        get
        {
            var t = _rtxAt;
            if (_delAckAt < t) t = _delAckAt;
            if (_persistAt < t) t = _persistAt;
            if (_keepAliveAt < t) t = _keepAliveAt;
            if (_timeWaitAt < t) t = _timeWaitAt;
            if (_finWait2At < t) t = _finWait2At;
            return t;
        }
    }

    /// <summary>The deadline of one timer, or null when it is not running.</summary>
    public TimeSpan? TimerDeadline(TcpTimer timer)
    {
        var t = timer switch
        {
            TcpTimer.Retransmission => _rtxAt,
            TcpTimer.DelayedAck => _delAckAt,
            TcpTimer.Persist => _persistAt,
            TcpTimer.KeepAlive => _keepAliveAt,
            TcpTimer.TimeWait => _timeWaitAt,
            TcpTimer.FinWait2 => _finWait2At,
            _ => Never,
        };
        return t == Never ? null : t;
    }

    /// <summary>Fires every timer whose deadline is at or before <paramref name="now"/>.</summary>
    public void OnTimer(TimeSpan now)
    {
        using var _ = Enter();
        if (_timeWaitAt <= now)
        {
            _timeWaitAt = Never;
            _host.TimerFired(this, TcpTimer.TimeWait);
            EnterClosed("2MSL timeout", TcpError.None);
            return;
        }
        if (_finWait2At <= now)
        {
            _finWait2At = Never;
            _host.TimerFired(this, TcpTimer.FinWait2);
            EnterClosed("FIN-WAIT-2 timeout", TcpError.None);
            return;
        }
        if (_rtxAt <= now)
        {
            _rtxAt = Never;
            _host.TimerFired(this, TcpTimer.Retransmission);
            RetransmissionTimeout(now);
            if (State == TcpState.Closed || State == TcpState.Listen) return;
        }
        if (_delAckAt <= now)
        {
            _delAckAt = Never;
            _host.TimerFired(this, TcpTimer.DelayedAck);
            SendAck(now);
        }
        if (_persistAt <= now)
        {
            _persistAt = Never;
            _host.TimerFired(this, TcpTimer.Persist);
            PersistTimeout(now);
            if (State == TcpState.Closed) return;
        }
        if (_keepAliveAt <= now)
        {
            _keepAliveAt = Never;
            _host.TimerFired(this, TcpTimer.KeepAlive);
            KeepAliveTimeout(now);
        }
    }

    private void RetransmissionTimeout(TimeSpan now)
    {
        _rttTiming = false; // Karn: a retransmitted segment gives no RTT sample
        switch (State)
        {
            case TcpState.SynSent:
                if (_retries >= _o.SynRetries)
                {
                    EnterClosed("SYN retries exhausted", TcpError.TimedOut);
                    return;
                }
                _retries++;
                _rto.Backoff();
                SendSyn(now, ack: false);
                ArmRetransmission(now);
                return;
            case TcpState.SynReceived:
                if (_retries >= _o.SynAckRetries)
                {
                    SendReset(_sndMax);
                    if (_passiveOpen) ReturnToListen("SYN-ACK retries exhausted: RST");
                    else EnterClosed("SYN-ACK retries exhausted", TcpError.TimedOut);
                    return;
                }
                _retries++;
                _rto.Backoff();
                SendSyn(now, ack: true, seq: _iss);
                ArmRetransmission(now);
                return;
        }
        if (_sndUna == _sndMax) return; // nothing outstanding
        if (_retries >= _o.DataRetries)
        {
            EnterClosed("retransmission retries exhausted", TcpError.TimedOut);
            return;
        }
        _retries++;
        _rto.Backoff();
        _cc.OnRetransmissionTimeout((uint)(_sndMax - _sndUna));
        ForgetRecovery(); // after a timeout, start over from SND.UNA (the peer may have reneged on SACKs)
        _sndNxt = _sndUna;
        ArmRetransmission(now);
        Output(now);
        if (_sndNxt == _sndUna && _sndUna != _sndMax)
        {
            // The window is closed: the only thing outstanding is past it. Keep the timer running.
            ArmRetransmission(now);
        }
    }

    private void PersistTimeout(TimeSpan now)
    {
        if (_sndWnd != 0 || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        if (_persistProbes >= _o.DataRetries)
        {
            EnterClosed("zero-window probes unanswered", TcpError.TimedOut);
            return;
        }
        _persistProbes++;
        // A zero-window probe as Linux sends it: an old byte's sequence number, so the peer must answer
        // with an ACK carrying its current window.
        var h = NewHeader(_sndUna - 1, TcpFlags.Ack, now, syn: false);
        Transmit(in h, default, TcpOptionLayout.Established);
        var backoff = _rto.Rto * (1 << Math.Min(_persistProbes, 10));
        _persistAt = now + (backoff > _o.MaxRto ? _o.MaxRto : backoff);
    }

    private void KeepAliveTimeout(TimeSpan now)
    {
        if (State is TcpState.SynSent or TcpState.SynReceived && !_passiveOpen)
        {
            EnterClosed("connection establishment timeout", TcpError.TimedOut);
            return;
        }
        if (!_o.KeepAlive || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait2)) return;
        if (_sndUna != _sndMax || _sendBuf.Count > 0)
        {
            // Data is outstanding: the retransmission timer watches the peer already.
            _keepAliveAt = now + _o.KeepAliveIdle;
            return;
        }
        if (_keepAliveProbes >= _o.KeepAliveCount)
        {
            SendAbortReset();
            EnterClosed("keep-alive probes unanswered", TcpError.TimedOut);
            return;
        }
        _keepAliveProbes++;
        // RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, no data; the peer must answer with an ACK.
        var h = NewHeader(_sndMax - 1, TcpFlags.Ack, now, syn: false);
        Transmit(in h, default, TcpOptionLayout.Established);
        _keepAliveAt = now + _o.KeepAliveInterval;
    }

    private void ArmRetransmission(TimeSpan now) => _rtxAt = now + _rto.Rto;

    private void ClearTimers()
    {
        _rtxAt = _delAckAt = _persistAt = _keepAliveAt = _timeWaitAt = _finWait2At = Never;
    }
}
