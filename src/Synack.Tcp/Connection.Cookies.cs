using Synack.Wire;

namespace Synack.Tcp;

public sealed partial class Connection
{
    private const TcpFlags EcnSetup = TcpFlags.Ece | TcpFlags.Cwr;

    /// <summary>
    /// The SYN-ACK a listener sends instead of keeping state (<see cref="SynCookies"/>): ISS = the cookie,
    /// our MSS and receive window as any SYN-ACK of <paramref name="o"/> would carry them; window scale,
    /// SACK and ECN only with timestamps, whose TSval remembers them (<paramref name="tsNow"/> is our
    /// timestamp clock for this tuple, offset included).
    /// </summary>
    internal static TcpHeader CookieSynAck(in FourTuple tuple, in TcpHeader syn, ConnectionOptions o, SeqNum cookie, uint tsNow)
    {
        ref readonly var offered = ref syn.Options;
        bool ts = o.Timestamps && offered.HasTimestamps;
        bool ws = ts && o.WindowScaling && offered.HasWindowScale;
        bool sack = ts && o.Sack && offered.SackPermitted;
        bool ecn = ts && o.Ecn != EcnMode.Off && (syn.Flags & EcnSetup) == EcnSetup;
        var h = new TcpHeader
        {
            SourcePort = tuple.LocalPort,
            DestinationPort = tuple.RemotePort,
            Seq = cookie,
            Ack = syn.Seq + 1,
            Flags = TcpFlags.Syn | TcpFlags.Ack | (ecn ? TcpFlags.Ece : 0), // RFC 3168 6.1.1: ECE without CWR
            Window = (ushort)Math.Min(o.ReceiveBufferSize, 65535), // never scaled in a SYN
        };
        h.Options.HasMss = o.SendMssOption;
        h.Options.Mss = o.AnnouncedMss(tuple.RemoteAddress.IsV6);
        if (ws)
        {
            h.Options.HasWindowScale = true;
            h.Options.WindowScale = o.EffectiveWindowScale;
        }
        h.Options.SackPermitted = sack;
        if (ts)
        {
            h.Options.HasTimestamps = true;
            h.Options.TsVal = SynCookies.EncodeTimestamp(tsNow, ws ? offered.WindowScale : null, sack, ecn);
            h.Options.TsEcr = offered.TsVal;
        }
        return h;
    }

    /// <summary>
    /// A listener's ACK that returned a valid cookie: this connection (just opened passively) becomes
    /// the one the cookie SYN-ACK would have made — SYN-RECEIVED, ISS = ACK − 1, IRS = SEQ − 1, the
    /// MSS the cookie carried and the options the echoed timestamp remembers — and the caller then
    /// hands it the ACK itself, which completes the handshake as any third segment does.
    /// </summary>
    internal void OpenFromCookie(in TcpHeader ack, ushort mss)
    {
        if (State != TcpState.Listen) throw new InvalidOperationException("a cookie opens a connection that is listening");
        using var _ = Enter();
        var syn = new TcpHeader { Seq = ack.Seq - 1, Flags = TcpFlags.Syn };
        syn.Options.HasMss = true;
        syn.Options.Mss = mss;
        if (ack.Options.HasTimestamps && _o.Timestamps)
        {
            SynCookies.DecodeTimestamp(ack.Options.TsEcr, out var shift, out bool sack, out bool ecn);
            syn.Options.HasTimestamps = true;
            syn.Options.TsVal = ack.Options.TsVal;
            if (shift is byte s)
            {
                syn.Options.HasWindowScale = true;
                syn.Options.WindowScale = s;
            }
            syn.Options.SackPermitted = sack;
            if (ecn) syn.Flags |= EcnSetup;
        }
        _rcv.Synchronize(syn.Seq);
        NegotiateFromSyn(in syn);
        _ecnOk = _ecnPeerRequested && _o.Ecn != EcnMode.Off;
        _snd.Start(ack.Ack - 1);
        _tsOffset = _isnGenerator.TimestampOffset(Tuple);
        _snd.SetWindow(in syn, scaled: false); // a window of 0 until the ACK's own, which is newer
        _rcv.AdvertisedEdge = _rcv.Nxt + Math.Min(_rcv.Buffer.Free, 65535);
        SetState(TcpState.SynReceived, "rcv ACK of a SYN cookie");
    }
}
