using Synack.Wire;

namespace Synack.Analysis;

/// <summary>Wireshark's tcp.analysis flags.</summary>
[Flags]
internal enum AnalysisFlags
{
    None = 0,
    Retransmission = 1 << 0,
    FastRetransmission = 1 << 1,
    SpuriousRetransmission = 1 << 2,
    OutOfOrder = 1 << 3,
    LostSegment = 1 << 4,
    AckLostSegment = 1 << 5,
    DuplicateAck = 1 << 6,
    ZeroWindow = 1 << 7,
    ZeroWindowProbe = 1 << 8,
    ZeroWindowProbeAck = 1 << 9,
    KeepAlive = 1 << 10,
    KeepAliveAck = 1 << 11,
    WindowUpdate = 1 << 12,
    WindowFull = 1 << 13,
    ReusedPorts = 1 << 14,
}

/// <summary>
/// What one direction of a conversation has shown so far, in the terms Wireshark's sequence analysis
/// keeps (absolute numbers, compared modulo 2^32; zero meaning "not yet", as there).
/// </summary>
internal sealed class FlowState
{
    public bool BaseSet;
    public uint Base;
    /// <summary>The base is this side's ISN, from its SYN (not guessed from a later segment or the peer's ACK).</summary>
    public bool BaseFromSyn;
    public uint NextSeq;
    public long NextSeqTimeNs;
    public uint MaxSeqToBeAcked;
    public uint LastAck;
    public long LastAckTimeNs;
    /// <summary>The window field as sent (unscaled); "not seen yet" is the largest, not zero: a side never
    /// heard from has closed no window (no zero-window probe is read into data sent before it speaks).</summary>
    public uint Window = uint.MaxValue;
    /// <summary>-1 not known, -2 not in use, else the shift this side's windows are scaled by.</summary>
    public int WinScale = -1;
    public bool LastWasSyn;
    public AnalysisFlags LastSegmentFlags;
    public int DupAckNum;
}

/// <summary>
/// tcp.analysis as tshark 4.0 defines it, one segment at a time: the same conditions in the same
/// order, so that a finding here is the finding Wireshark shows (the comparison over public captures
/// keeps it so: scripts/compare-tshark.py).
/// </summary>
internal static class SequenceAnalysis
{
    private static bool Gt(uint a, uint b) => (int)(a - b) > 0;
    private static bool Lt(uint a, uint b) => (int)(a - b) < 0;
    private static bool Le(uint a, uint b) => (int)(a - b) <= 0;

    private const TcpFlags SynFinRst = TcpFlags.Syn | TcpFlags.Fin | TcpFlags.Rst;

    /// <param name="firstRttNs">The handshake's RTT (SYN to the ACK that completes it), 0 when not seen: the out-of-order threshold.</param>
    public static AnalysisFlags Analyze(FlowState fwd, FlowState rev, uint seq, uint ack, uint seglen, TcpFlags flags, uint window, long nowNs, long firstRttNs)
    {
        var a = AnalysisFlags.None;
        bool syn = (flags & TcpFlags.Syn) != 0, fin = (flags & TcpFlags.Fin) != 0;

        // Bases for relative numbers: a side's SYN, else its first segment is byte 1; the other side's,
        // from the first ACK this side sends, if that side has not been seen.
        if (!fwd.BaseSet)
        {
            fwd.Base = syn ? seq : seq - 1;
            fwd.BaseSet = true;
            fwd.BaseFromSyn = syn;
        }
        if (!rev.BaseSet && (flags & TcpFlags.Ack) != 0)
        {
            rev.Base = ack - 1;
            rev.BaseSet = true;
        }

        if (seglen == 1 && seq == fwd.NextSeq && rev.Window == 0)
        {
            a |= AnalysisFlags.ZeroWindowProbe;
            goto finishedFwd;
        }
        if (window == 0 && (flags & SynFinRst) == 0) a |= AnalysisFlags.ZeroWindow;
        if (fwd.NextSeq != 0 && Gt(seq, fwd.NextSeq) && (flags & TcpFlags.Rst) == 0) a |= AnalysisFlags.LostSegment;
        if (seglen <= 1 && seq == fwd.NextSeq - 1 && (flags & SynFinRst) == 0) a |= AnalysisFlags.KeepAlive;
        if (seglen == 0 && window != 0 && window != fwd.Window && seq == fwd.NextSeq && ack == fwd.LastAck && (flags & SynFinRst) == 0)
            a |= AnalysisFlags.WindowUpdate;
        if (seglen > 0 && rev.WinScale != -1 && (flags & SynFinRst) == 0
            && seq + seglen == rev.LastAck + (rev.Window << (rev.LastWasSyn || rev.WinScale == -2 ? 0 : rev.WinScale)))
            a |= AnalysisFlags.WindowFull;
        if (seglen == 0 && window != 0 && window == fwd.Window && seq == fwd.NextSeq && ack == fwd.LastAck
            && (rev.LastSegmentFlags & AnalysisFlags.KeepAlive) != 0 && (flags & SynFinRst) == 0)
        {
            a |= AnalysisFlags.KeepAliveAck;
            goto finishedFwd;
        }
        if (seglen == 0 && window == 0 && window == fwd.Window && seq == fwd.NextSeq && ack == fwd.LastAck
            && (rev.LastSegmentFlags & AnalysisFlags.ZeroWindowProbe) != 0 && (flags & SynFinRst) == 0)
        {
            a |= AnalysisFlags.ZeroWindowProbeAck;
            goto finishedFwd;
        }
        if (seglen == 0 && window != 0 && window == fwd.Window && seq == fwd.NextSeq && ack == fwd.LastAck && (flags & SynFinRst) == 0)
        {
            fwd.DupAckNum = fwd.DupAckNum == -1 ? 1 : fwd.DupAckNum + 1; // after an ACK of unseen data, the first duplicate counts as one
            a |= AnalysisFlags.DuplicateAck;
        }

    finishedFwd:
        if (ack != fwd.LastAck) fwd.DupAckNum = 0;

        // An ACK beyond what the other side was seen to send: its segments were not captured. Said
        // once per hole: when the other side has sent more since, the boundary moves up to it; when it
        // has only been acknowledging, once until it acknowledges something new (its duplicate-ACK
        // count set to -1 says so, and, read unsigned as tshark 4.0 reads it, counts as "many").
        if (rev.MaxSeqToBeAcked != 0 && Gt(ack, rev.MaxSeqToBeAcked) && (flags & TcpFlags.Ack) != 0)
        {
            if (Lt(rev.MaxSeqToBeAcked, rev.NextSeq))
            {
                rev.MaxSeqToBeAcked = rev.NextSeq;
                a |= AnalysisFlags.AckLostSegment;
            }
            else
            {
                if (rev.DupAckNum == 0) a |= AnalysisFlags.AckLostSegment;
                rev.DupAckNum = -1;
            }
        }

        if (seglen > 0 || syn || fin)
        {
            bool notAdvanced = fwd.NextSeq != 0 && Lt(seq, fwd.NextSeq);
            if ((a & AnalysisFlags.KeepAlive) != 0) goto finishedRetransmission;
            // One byte less than the next expected, with new data: after a zero-window probe, not a retransmission.
            if (seglen > 1 && fwd.NextSeq - 1 == seq) notAdvanced = false;
            ulong sinceDupAck = unchecked((ulong)(nowNs - rev.LastAckTimeNs));
            if (notAdvanced && (uint)rev.DupAckNum >= 2 && rev.LastAck == seq && sinceDupAck < 20_000_000)
            {
                a |= AnalysisFlags.FastRetransmission;
                goto finishedRetransmission;
            }
            if (seglen > 0 && rev.LastAck != 0 && Le(seq + seglen, rev.LastAck))
            {
                a |= AnalysisFlags.SpuriousRetransmission;
                goto finishedRetransmission;
            }
            ulong sinceNext = unchecked((ulong)(nowNs - fwd.NextSeqTimeNs));
            ulong threshold = firstRttNs > 0 ? (ulong)firstRttNs : 3_000_000;
            if (notAdvanced && sinceNext < threshold && fwd.NextSeq != seq + seglen + (syn || fin ? 1u : 0u))
            {
                a |= AnalysisFlags.OutOfOrder;
                goto finishedRetransmission;
            }
            if (notAdvanced) a |= AnalysisFlags.Retransmission;
        }

    finishedRetransmission:
        uint next = seq + seglen;
        if (syn || fin) next++;
        if (Gt(next, fwd.NextSeq) || fwd.NextSeq == 0)
        {
            if ((a & AnalysisFlags.ZeroWindowProbe) == 0)
            {
                fwd.NextSeq = next;
                fwd.NextSeqTimeNs = nowNs;
            }
        }
        if (seq == fwd.MaxSeqToBeAcked || fwd.MaxSeqToBeAcked == 0)
        {
            if ((a & AnalysisFlags.ZeroWindowProbe) == 0) fwd.MaxSeqToBeAcked = fwd.NextSeq;
        }
        fwd.Window = window;
        fwd.LastAck = ack;
        fwd.LastAckTimeNs = nowNs;
        fwd.LastWasSyn = syn;
        fwd.LastSegmentFlags = a;
        return a;
    }

    /// <summary>Window scaling as Wireshark settles it from the SYNs: a side without the option turns it off for both.</summary>
    public static void WindowScale(FlowState fwd, FlowState rev, in TcpHeader tcp)
    {
        bool synAck = (tcp.Flags & TcpFlags.Ack) != 0;
        if (tcp.Options.HasWindowScale) fwd.WinScale = Math.Min((int)tcp.Options.WindowScale, 14);
        if (fwd.WinScale == -1)
        {
            // This SYN has no option: scaling is off both ways (the other side's too, in case its SYN is missed).
            fwd.WinScale = -2;
            rev.WinScale = -2;
        }
        else if (synAck && rev.WinScale == -2)
        {
            fwd.WinScale = -2;
        }
    }

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<AnalysisFlags, string[]> NameCache = new();

    /// <summary>The flags as tshark's field names, in the order its expert infos list them (one shared array per combination).</summary>
    public static string[] Names(AnalysisFlags a) => a == AnalysisFlags.None ? [] : NameCache.GetOrAdd(a, static f => [.. List(f)]);

    private static List<string> List(AnalysisFlags a)
    {
        var list = new List<string>(2);
        if ((a & AnalysisFlags.ReusedPorts) != 0) list.Add("reused_ports");
        if ((a & AnalysisFlags.ZeroWindowProbe) != 0) list.Add("zero_window_probe");
        if ((a & AnalysisFlags.ZeroWindow) != 0) list.Add("zero_window");
        if ((a & AnalysisFlags.LostSegment) != 0) list.Add("lost_segment");
        if ((a & AnalysisFlags.KeepAlive) != 0) list.Add("keep_alive");
        if ((a & AnalysisFlags.WindowUpdate) != 0) list.Add("window_update");
        if ((a & AnalysisFlags.WindowFull) != 0) list.Add("window_full");
        if ((a & AnalysisFlags.KeepAliveAck) != 0) list.Add("keep_alive_ack");
        if ((a & AnalysisFlags.ZeroWindowProbeAck) != 0) list.Add("zero_window_probe_ack");
        if ((a & AnalysisFlags.DuplicateAck) != 0) list.Add("duplicate_ack");
        if ((a & AnalysisFlags.AckLostSegment) != 0) list.Add("ack_lost_segment");
        if ((a & AnalysisFlags.FastRetransmission) != 0) list.Add("fast_retransmission");
        if ((a & AnalysisFlags.SpuriousRetransmission) != 0) list.Add("spurious_retransmission");
        if ((a & (AnalysisFlags.Retransmission | AnalysisFlags.FastRetransmission | AnalysisFlags.SpuriousRetransmission)) != 0) list.Add("retransmission");
        if ((a & AnalysisFlags.OutOfOrder) != 0) list.Add("out_of_order");
        return list;
    }
}
