using Synack.Wire;

namespace Synack.Tcp;

// The eight timers. The sender arms four of its own: retransmission (SYN, SYN-ACK, data, FIN),
// persist (zero window), the tail loss probe and RACK's reordering window. The connection keeps
// delayed ACK, keep-alive, TIME-WAIT (2 MSL) and FIN-WAIT-2 for connections the application has closed.
public sealed partial class Connection
{
    private static readonly TimeSpan Never = TimeSpan.MaxValue;
    // The sender keeps its deadlines; these are the connection's own.
    private TimeSpan _delAckAt, _keepAliveAt;
    // TIME-WAIT's 2 MSL, or FIN-WAIT-2's limit for a connection the application has closed: never both
    // (entering TIME-WAIT clears the timers), so one field, read by the state.
    private TimeSpan _endAt;

    /// <summary>When <see cref="OnTimer"/> must next be called; <see cref="TimeSpan.MaxValue"/> for never.</summary>
    public TimeSpan NextDeadline
    {
        get
        {
            var t = _snd.NextDeadline;
            if (_delAckAt < t) t = _delAckAt;
            if (_keepAliveAt < t) t = _keepAliveAt;
            if (_endAt < t) t = _endAt;
            return t;
        }
    }

    /// <summary>The deadline of one timer, or null when it is not running.</summary>
    public TimeSpan? TimerDeadline(TcpTimer timer)
    {
        var t = timer switch
        {
            TcpTimer.Retransmission => _snd.RetransmitAt,
            TcpTimer.DelayedAck => _delAckAt,
            TcpTimer.Persist => _snd.PersistAt,
            TcpTimer.KeepAlive => _keepAliveAt,
            TcpTimer.TimeWait => State == TcpState.TimeWait ? _endAt : Never,
            TcpTimer.FinWait2 => State != TcpState.TimeWait ? _endAt : Never,
            TcpTimer.TailLossProbe => _snd.ProbeAt,
            TcpTimer.ReorderWindow => _snd.ReorderTimerAt,
            _ => Never,
        };
        return t == Never ? null : t;
    }

    /// <summary>Fires every timer whose deadline is at or before <paramref name="now"/>.</summary>
    public void OnTimer(TimeSpan now)
    {
        using var _ = Enter();
        if (_endAt <= now)
        {
            _endAt = Never;
            bool timeWait = State == TcpState.TimeWait;
            _host.TimerFired(this, timeWait ? TcpTimer.TimeWait : TcpTimer.FinWait2);
            EnterClosed(timeWait ? "2MSL timeout" : "FIN-WAIT-2 timeout", TcpError.None);
            return;
        }
        if (_snd.ReorderTimerAt <= now)
        {
            _host.TimerFired(this, TcpTimer.ReorderWindow);
            if (_snd.ReorderTimeout(now)) Output(now);
        }
        // Before the retransmission timer: a probe due at the same moment goes in its place (and restarts it).
        if (_snd.TakeDue(TcpTimer.TailLossProbe, now))
        {
            _host.TimerFired(this, TcpTimer.TailLossProbe);
            _snd.TailLossProbe(now);
        }
        if (_snd.TakeDue(TcpTimer.Retransmission, now))
        {
            _host.TimerFired(this, TcpTimer.Retransmission);
            RetransmissionTimeout(now);
            if (State == TcpState.Closed || State == TcpState.Listen) return;
        }
        if (_delAckAt <= now)
        {
            _delAckAt = Never;
            _host.TimerFired(this, TcpTimer.DelayedAck);
            // Linux's delayed-ACK timer: an interactive connection whose ACK had to wait is no longer one.
            if (_rcv.InPingPong) _rcv.PingPong = 0;
            SendAck(now);
        }
        if (_snd.TakeDue(TcpTimer.Persist, now))
        {
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
        _snd.StopTiming(); // Karn: a retransmitted segment gives no RTT sample
        switch (State)
        {
            case TcpState.SynSent:
                if (_o.SynLinearTimeouts > 0
                    ? _retries > 0 && now - _unansweredSince >= ModelTimeout(_o.SynRetries, _o.InitialRto)
                    : _retries >= _o.SynRetries)
                {
                    EnterClosed("SYN retries exhausted", TcpError.TimedOut);
                    return;
                }
                _retries++;
                if (_retries > _o.SynLinearTimeouts) _snd.Rto.Backoff(_o); // Linux 6.5: the first timeouts stay linear
                SendSyn(now, ack: false);
                ArmRetransmission(now);
                return;
            case TcpState.SynReceived:
                if (_retries >= _o.SynAckRetries)
                {
                    if (_o.ResetWhenSynAckRetriesRunOut) SendReset(_snd.Max);
                    if (_passiveOpen) ReturnToListen(_o.ResetWhenSynAckRetriesRunOut ? "SYN-ACK retries exhausted: RST" : "SYN-ACK retries exhausted: dropped");
                    else EnterClosed("SYN-ACK retries exhausted", TcpError.TimedOut);
                    return;
                }
                _retries++;
                _snd.Rto.Backoff(_o);
                SendSyn(now, ack: true, seq: _snd.Iss);
                ArmRetransmission(now);
                return;
        }
        if (_snd.Una == _snd.Max) return; // nothing outstanding
        // The head went out one RTO ago; Linux counts from this first retransmission instead (retrans_stamp
        // is the retransmitted skb's new send time), so its user timeout allows one more.
        if (_retries == 0) _unansweredSince = _o.UserTimeoutFromFirstRetransmission ? now : now - _snd.Rto.Rto;
        if (_retries >= MaxRetries)
        {
            EnterClosed(_orphaned && _retries < _o.DataRetries ? "orphan retries exhausted" : "retransmission retries exhausted", TcpError.TimedOut);
            return;
        }
        if (UserTimeout is TimeSpan limit && now - _unansweredSince >= limit)
        {
            // RFC 9293 3.8.3 / RFC 5482: the user timeout passed with data unacknowledged (no RST, as for retries).
            EnterClosed("user timeout", TcpError.TimedOut);
            return;
        }
        _retries++;
        _snd.GoBackN(now);
        // Linux's tcp_clamp_rto_to_user_timeout: the last timer fires when the user timeout ends.
        if (UserTimeout is TimeSpan user) _snd.ClampRetransmissionTimer(_unansweredSince + user, now);
        Output(now);
        if (_snd.Nxt == _snd.Una && _snd.Una != _snd.Max)
        {
            // The window is closed: the only thing outstanding is past it. Keep the timer running.
            ArmRetransmission(now);
        }
    }

    /// <summary>
    /// Linux's tcp_model_timeout: how long <paramref name="retries"/> retransmissions take from the first
    /// send when each timeout doubles from <paramref name="rtoBase"/>, capped at 120 s a step.
    /// </summary>
    private static TimeSpan ModelTimeout(int retries, TimeSpan rtoBase)
    {
        var max = TimeSpan.FromSeconds(120);
        int threshold = (int)Math.Floor(Math.Log2(max / rtoBase));
        return retries <= threshold
            ? ((2L << retries) - 1) * rtoBase
            : ((2L << threshold) - 1) * rtoBase + (retries - threshold) * max;
    }

    /// <summary>Retransmissions (and zero-window probes) before giving up: fewer once the application has let go.</summary>
    private int MaxRetries => _orphaned && _o.OrphanRetries is int orphan ? Math.Min(orphan, _o.DataRetries) : _o.DataRetries;

    private void PersistTimeout(TimeSpan now)
    {
        if (_snd.Wnd != 0 || State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck)) return;
        if (_snd.PersistProbes >= MaxRetries)
        {
            EnterClosed(_snd.CountAnsweredProbes ? "orphan held by a zero window: probes exhausted" : "zero-window probes unanswered", TcpError.TimedOut);
            return;
        }
        _snd.ZeroWindowProbeSent(now);
        // A zero-window probe as Linux sends it: an old byte's sequence number, so the peer must answer
        // with an ACK carrying its current window.
        var h = NewHeader(_snd.Una - 1, TcpFlags.Ack, now, syn: false);
        Transmit(in h, default, TcpOptionLayout.Established);
    }

    private void KeepAliveTimeout(TimeSpan now)
    {
        if (State is TcpState.SynSent or TcpState.SynReceived && !_passiveOpen)
        {
            EnterClosed("connection establishment timeout", TcpError.TimedOut);
            return;
        }
        var k = KeepAliveNow;
        if (!k.On) return;
        if (State is not (TcpState.Established or TcpState.CloseWait or TcpState.FinWait2))
        {
            // FIN-WAIT-1, CLOSING, LAST-ACK: our FIN's retransmissions watch the peer for now. The timer
            // stays armed for the state after them: FIN-WAIT-2 with the peer gone would otherwise wait
            // for its FIN for ever, keep-alive on (found by the sweep: seed 100647).
            if (State is TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck) _keepAliveAt = now + k.Idle;
            return;
        }
        if (_snd.Una != _snd.Max || _snd.Buffer.Count > 0)
        {
            // Data is outstanding: the retransmission timer watches the peer already.
            _keepAliveAt = now + k.Idle;
            return;
        }
        if (_keepAliveProbes >= k.Count)
        {
            SendAbortReset(now);
            EnterClosed("keep-alive probes unanswered", TcpError.TimedOut);
            return;
        }
        _keepAliveProbes++;
        // RFC 1122 4.2.3.6: SEG.SEQ = SND.NXT - 1, no data; the peer must answer with an ACK.
        var h = NewHeader(_snd.Max - 1, TcpFlags.Ack, now, syn: false);
        Transmit(in h, default, TcpOptionLayout.Established);
        _keepAliveAt = now + k.Interval;
    }

    private void ArmRetransmission(TimeSpan now) => _snd.ArmRetransmission(now);

    private void ClearTimers()
    {
        _snd.StopTimers();
        _delAckAt = _keepAliveAt = _endAt = Never;
    }
}
