using Synack.Wire;

namespace Synack.Tcp;

// Loss recovery on duplicate ACKs: fast retransmit and fast recovery (RFC 5681 3.2) with NewReno's
// partial ACKs (RFC 6582), choosing what to resend from the peer's SACK blocks when it sends them
// (a simple form of RFC 6675's scoreboard). The retransmission timer stays the last resort.
public sealed partial class Connection
{
    private const int DupAckThreshold = 3;
    private int _dupAcks;
    private bool _inRecovery;
    private SeqNum _recover;      // SND.MAX when recovery began: an ACK past it ends recovery
    private SeqNum _rtxHighest;   // below this, holes have been resent in this recovery
    private ReassemblyQueue? _scoreboard; // ranges above SND.UNA the peer has SACKed (bounded)

    /// <summary>True while fast recovery runs (after three duplicate ACKs, until everything then outstanding is acked).</summary>
    public bool InFastRecovery => _inRecovery;

    private void RecordSacks(in TcpOptions o)
    {
        var board = _scoreboard ??= new ReassemblyQueue();
        for (int i = 0; i < o.SackBlockCount; i++)
        {
            var b = o.SackBlocks[i];
            // Only blocks about data in flight count; D-SACK blocks (below SND.UNA) and nonsense are ignored.
            if (b.Left <= _sndUna || b.Right > _sndMax || b.Right <= b.Left) continue;
            board.Add(b.Left, b.Right, out _, out _);
        }
    }

    private void DuplicateAck(TimeSpan now)
    {
        _dupAcks++;
        if (_inRecovery)
        {
            // Each duplicate ACK means a segment has left the network: inflate the window by one
            // (RFC 5681 3.2 step 4), and with SACK resend the next hole the peer has told us of.
            _cc.OnDuplicateAckInRecovery();
            if (_scoreboard is { IsEmpty: false }) RetransmitNextHole(now);
            Output(now);
            return;
        }
        if (_dupAcks < DupAckThreshold) return;
        // Fast retransmit (RFC 5681 3.2 steps 2 and 3).
        _cc.OnFastRetransmit((uint)(_sndMax - _sndUna));
        _inRecovery = true;
        _recover = _sndMax;
        _rtxHighest = _sndUna;
        RetransmitNextHole(now);
        _rtxAt = now + _rto.Rto;
        Output(now);
    }

    /// <summary>RFC 6582 3.2 step 3: an ACK that covers part of what was outstanding: resend the next hole at once.</summary>
    private void PartialAck(int acked, TimeSpan now)
    {
        if (_rtxHighest < _sndUna) _rtxHighest = _sndUna;
        RetransmitNextHole(now);
        _cc.OnPartialAck((uint)acked);
    }

    private void ExitRecovery()
    {
        _inRecovery = false;
        _cc.OnRecoveryEnd((uint)(_sndMax - _sndUna));
    }

    /// <summary>Resends the first stretch from SND.UNA (or past what this recovery resent) that the peer has not SACKed.</summary>
    private void RetransmitNextHole(TimeSpan now)
    {
        var start = _rtxHighest > _sndUna ? _rtxHighest : _sndUna;
        var limit = _sndMax;
        if (_scoreboard is { } board)
        {
            // Step over SACKed ranges; stop at the highest SACKed byte: past it nothing is known lost.
            SeqNum highest = _sndUna;
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
        if (start >= limit) return;
        var dataEnd = _sndBufSeq + _sendBuf.Count;
        int len = Math.Min(Math.Min(limit - start, _sndMss), Math.Max(dataEnd - start, 0));
        bool fin = _finQueued && start + len == dataEnd && limit > dataEnd;
        if (len <= 0 && !fin) return;
        _rttTiming = false; // Karn: an ACK of resent data says nothing about the round trip
        SendData(start, len, fin, now, advance: false);
        _rtxHighest = start + len + (fin ? 1 : 0);
    }

    private void ForgetRecovery()
    {
        _inRecovery = false;
        _dupAcks = 0;
        _scoreboard?.Clear();
    }
}
