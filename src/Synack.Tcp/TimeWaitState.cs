using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// What TIME-WAIT needs and nothing more (as Linux's inet_timewait_sock): about 100 bytes instead of a
/// TCB with buffers, and the one place where TIME-WAIT's rules live (RFC 9293 3.10.7.4, RFC 5961,
/// RFC 6191, and the profile's TIME-WAIT policies). Sans-I/O: <see cref="Handle"/> takes a segment and
/// <c>now</c> and says what to do and what to send. A <see cref="Connection"/> uses it once it is in
/// TIME-WAIT; a host may keep only this and let the connection go.
/// </summary>
public sealed class TimeWaitState
{
    private TimeWaitState(ConnectionOptions options) => Options = options;

    /// <summary>Local and remote address and port.</summary>
    public FourTuple Tuple { get; private init; }
    /// <summary>The sequence number our segments carry (SND.MAX of the connection).</summary>
    public SeqNum SndNxt { get; private init; }
    /// <summary>RCV.NXT: just past the peer's FIN.</summary>
    public SeqNum RcvNxt { get; private init; }
    /// <summary>Timestamps were negotiated: the answers carry them.</summary>
    public bool Timestamps { get; private init; }
    /// <summary>The window field of our last segment: a TIME-WAIT ACK repeats it, as Linux's does.</summary>
    public ushort Window { get; private init; }
    /// <summary>TS.Recent: the last timestamp the peer sent (for PAWS and for echoing).</summary>
    public uint TsRecent { get; private init; }
    /// <summary>The offset of the connection's timestamp clock.</summary>
    public uint TsOffset { get; private init; }
    /// <summary>When the 2 MSL wait ends; a retransmitted FIN moves it.</summary>
    public TimeSpan Expires { get; private set; }
    /// <summary>The window segments are checked against (the connection's acceptance window when it entered TIME-WAIT).</summary>
    public uint AcceptWindow { get; private init; }
    /// <summary>The application had closed the socket (not only shut down sending) when TIME-WAIT began.</summary>
    public bool Orphaned { get; private init; }
    /// <summary>The IP fields the connection's packets carried (IP_TOS, IP_TTL), for the answers.</summary>
    public byte Dscp { get; private init; }
    /// <summary>The IP hop limit the connection's packets carried.</summary>
    public byte HopLimit { get; private init; }
    /// <summary>The options of the connection: its RFC 5961 and TIME-WAIT policies.</summary>
    public ConnectionOptions Options { get; }

    /// <summary>The TIME-WAIT state of a connection that has just entered it.</summary>
    internal static TimeWaitState Of(Connection c, TimeSpan expires) => new(c.Options)
    {
        Tuple = c.Tuple,
        SndNxt = c.SndMax,
        RcvNxt = c.RcvNxt,
        Timestamps = c.TimestampsNegotiated,
        // Linux's TIME-WAIT ACK (tcp_v4_send_ack) puts tw_rcv_wnd >> wscale into the field unclamped:
        // without scaling, a window past 65535 comes out as its low 16 bits (269328 says 7184).
        Window = c.Options.TimeWaitWindowWraps ? c.TimeWaitWindowField : (ushort)Math.Min(c.RcvWnd >> c.ReceiveWindowShift, 65535u),
        TsRecent = c.TsRecent,
        TsOffset = c.TsOffset,
        Expires = expires,
        // What the window field could still say (BSD's tcp_twstart caps it the same way).
        AcceptWindow = (uint)Math.Min(c.AcceptanceWindow, 65535L << c.ReceiveWindowShift),
        Orphaned = c.Orphaned,
        Dscp = c.Dscp,
        HopLimit = c.HopLimit,
    };

    /// <summary>A TIME-WAIT state rebuilt from what a compact table kept of it.</summary>
    internal static TimeWaitState Restore(ConnectionOptions options, FourTuple tuple, SeqNum sndNxt, SeqNum rcvNxt, bool timestamps, ushort window,
        uint tsRecent, uint tsOffset, TimeSpan expires, uint acceptWindow, bool orphaned, byte dscp, byte hopLimit) => new(options)
    {
        Tuple = tuple,
        SndNxt = sndNxt,
        RcvNxt = rcvNxt,
        Timestamps = timestamps,
        Window = window,
        TsRecent = tsRecent,
        TsOffset = tsOffset,
        Expires = expires,
        AcceptWindow = acceptWindow,
        Orphaned = orphaned,
        Dscp = dscp,
        HopLimit = hopLimit,
    };

    /// <summary>
    /// One segment for this TIME-WAIT connection. <paramref name="allowReopen"/> says whether a new SYN
    /// may take the tuple over (the host has a listener and RFC 6191 reuse is on). When
    /// <paramref name="send"/> is true, <paramref name="reply"/> is to be sent.
    /// </summary>
    public TimeWaitVerdict Handle(in TcpHeader seg, int payloadLength, TimeSpan now, bool allowReopen, out TcpHeader reply, out bool send)
    {
        reply = default;
        send = false;
        var o = Options;
        var flags = seg.Flags;
        int offset = seg.Seq - RcvNxt;
        bool inWindow = offset >= 0 && offset < Math.Max((int)AcceptWindow, 1);
        if (flags.Has(TcpFlags.Rst))
        {
            // Only an exact RST ends TIME-WAIT (RFC 5961 3.2); any other is dropped without a word, as Linux does.
            return seg.Seq == RcvNxt && !o.IgnoreRstInTimeWait ? TimeWaitVerdict.Close : TimeWaitVerdict.Keep;
        }
        if (flags.Has(TcpFlags.Syn))
        {
            if (o.DropSynFin && flags.Has(TcpFlags.Fin)) return TimeWaitVerdict.Keep;
            // RFC 9293 3.6.1 / RFC 6191: a new incarnation may start if its ISN is past everything the
            // old one sent (or, with timestamps, its TSval is newer), so no old segment can be taken for new.
            bool newer = seg.Seq > RcvNxt || (Timestamps && seg.Options.HasTimestamps && unchecked((int)(seg.Options.TsVal - TsRecent)) > 0);
            if (!flags.Has(TcpFlags.Ack) && allowReopen && newer && (Orphaned || !o.ReuseTimeWaitOnlyAfterClose)) return TimeWaitVerdict.Reopen;
            if (!o.Rfc5961Syn && inWindow)
            {
                // RFC 793: a SYN in the window is an error: reset, and the old connection is gone.
                reply = Reset();
                send = true;
                return TimeWaitVerdict.Close;
            }
            reply = Ack(now); // a challenge ACK (RFC 5961 4.2), or the ACK for an unacceptable segment
            send = true;
            return TimeWaitVerdict.Keep;
        }
        if (!flags.Has(TcpFlags.Ack))
        {
            // RFC 9293 3.10.7.4: an unacceptable segment is answered with an ACK; an acceptable one
            // without the ACK bit is dropped (step five). BSD drops both.
            if (!inWindow && !o.TimeWaitDropsSegmentsWithoutAck)
            {
                reply = Ack(now);
                send = true;
            }
            return TimeWaitVerdict.Drop;
        }
        int segLen = payloadLength + (flags.Has(TcpFlags.Fin) ? 1 : 0);
        if (flags.Has(TcpFlags.Fin) && seg.Seq + segLen == RcvNxt)
        {
            // The peer's FIN again: our last ACK was lost. Acknowledge it and restart 2 MSL.
            reply = Ack(now);
            send = true;
            Expires = now + 2 * o.Msl;
            return TimeWaitVerdict.Keep;
        }
        // Anything else is acknowledged (data cannot be taken after the FIN; Linux answers it too),
        // except a bare ACK at RCV.NXT, which needs no answer.
        if (segLen > 0 || seg.Seq != RcvNxt)
        {
            reply = Ack(now);
            send = true;
        }
        return TimeWaitVerdict.Drop;
    }

    private TcpHeader Reset()
    {
        bool withAck = Options.ResetCarriesAck;
        return new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = SndNxt,
            Ack = withAck ? RcvNxt : default,
            Flags = withAck ? TcpFlags.Rst | TcpFlags.Ack : TcpFlags.Rst,
            Dscp = Dscp,
            HopLimit = HopLimit,
        };
    }

    private TcpHeader Ack(TimeSpan now)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.LocalPort,
            DestinationPort = Tuple.RemotePort,
            Seq = SndNxt,
            Ack = RcvNxt,
            Flags = TcpFlags.Ack,
            Window = Window,
            Dscp = Dscp,
            HopLimit = HopLimit,
        };
        if (Timestamps)
        {
            h.Options.HasTimestamps = true;
            h.Options.TsVal = TimestampClock.Value(now, TsOffset);
            h.Options.TsEcr = TsRecent;
        }
        return h;
    }
}
