using Synack.Wire;

namespace Synack.Tcp;

// Explicit Congestion Notification (RFC 3168 section 6.1): negotiated by ECE and CWR on the SYNs;
// then new data goes out as ECT(0), a CE mark is echoed with ECE until the sender answers CWR, and
// an ECE reduces the window once per window of data, as a loss would.
public sealed partial class Connection
{
    private bool _ecnOk;            // negotiated
    private bool _ecnRequested;     // our last SYN asked for it
    private bool _ecnPeerRequested; // the peer's SYN asked for it
    private bool _ecnEcho;          // CE seen: set ECE on our ACKs until a CWR arrives
    private bool _cwrPending;       // ECE taken: the next new data segment carries CWR
    private SeqNum _ecnRecover;     // one response per window of data: until an ACK passes this
    private bool _ecnResponded;

    /// <summary>True when both ends agreed to ECN in the handshake.</summary>
    public bool EcnNegotiated => _ecnOk;

    /// <summary>The flags ECN adds to a SYN or SYN-ACK we are about to send.</summary>
    private TcpFlags EcnSynFlags(bool synAck)
    {
        if (synAck)
        {
            // RFC 3168 6.1.1: an ECN-setup SYN-ACK has ECE and not CWR.
            _ecnOk = _ecnPeerRequested && _o.Ecn != EcnMode.Off;
            return _ecnOk ? TcpFlags.Ece : 0;
        }
        // Linux (tcp_ecn_clear_syn, with tcp_ecn_fallback on) drops ECE and CWR from every retransmitted SYN.
        _ecnRequested = _o.Ecn == EcnMode.Request && _retries <= (_o.EcnOffOnSynRetransmit ? 0 : _o.EcnSetupRetries);
        return _ecnRequested ? TcpFlags.Ece | TcpFlags.Cwr : 0;
    }

    /// <summary>Called with the peer's SYN or SYN-ACK.</summary>
    private void EcnFromSyn(in TcpHeader seg)
    {
        var ecnBits = seg.Flags & (TcpFlags.Ece | TcpFlags.Cwr);
        if (!seg.Flags.Has(TcpFlags.Ack))
        {
            _ecnPeerRequested = ecnBits == (TcpFlags.Ece | TcpFlags.Cwr);
            return;
        }
        _ecnOk = _ecnRequested && ecnBits == TcpFlags.Ece;
    }

    /// <summary>ECN on an arriving segment of a synchronized connection.</summary>
    private void EcnArrival(in TcpHeader seg, int payloadLength, TimeSpan now)
    {
        if (!_ecnOk) return;
        if (seg.Flags.Has(TcpFlags.Cwr)) _ecnEcho = false;
        if (seg.Ecn == EcnCodepoint.Ce && payloadLength > 0) _ecnEcho = true;
        if (seg.Flags.Has(TcpFlags.Ece) && !seg.Flags.Has(TcpFlags.Syn) && (!_ecnResponded || seg.Ack > _ecnRecover))
        {
            // RFC 3168 6.1.2: as for a loss, but without resending anything.
            if (_o.ProportionalRateReduction) _snd.StartCongestionWindowReduction(now);
            else _snd.Congestion.OnCongestionEcho(_snd.Flight, now);
            _cwrPending = true;
            _ecnResponded = true;
            _ecnRecover = _snd.Max;
        }
    }

    /// <summary>ECN on a segment we are about to send (not a SYN).</summary>
    private void EcnDeparture(ref TcpHeader h, int payloadLength, bool isNewData)
    {
        if (!_ecnOk) return;
        if (_ecnEcho && h.Flags.Has(TcpFlags.Ack) && !h.Flags.Has(TcpFlags.Rst)) h.Flags |= TcpFlags.Ece;
        if (payloadLength > 0 && isNewData)
        {
            // RFC 3168 6.1.5: retransmissions go without ECT; pure ACKs too (6.1.4).
            h.Ecn = EcnCodepoint.Ect0;
            if (_cwrPending)
            {
                h.Flags |= TcpFlags.Cwr;
                _cwrPending = false;
            }
        }
    }
}
