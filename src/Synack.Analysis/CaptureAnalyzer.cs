using Synack.Wire;

namespace Synack.Analysis;

/// <summary>
/// Turns a capture into TCP conversations (numbered like Wireshark's tcp.stream), with relative and
/// absolute numbers, findings named as Wireshark names them, and each endpoint's inferred state after
/// every packet. Uses Synack.Wire only.
/// </summary>
/// <summary>
/// Turns a capture into TCP conversations (numbered like Wireshark's tcp.stream), with relative and
/// absolute numbers, findings named as Wireshark names them, and each endpoint's inferred state after
/// every packet. Streams: packets go to the writer in frame order as they are settled, and memory is
/// bounded by the live conversations, not by the file. Uses Synack.Wire only.
/// </summary>
public static class CaptureAnalyzer
{
    /// <summary>A whole capture in memory, every packet kept (the ladder, tests).</summary>
    public static IReadOnlyList<Conversation> Analyze(CaptureFile capture) => Analyze(capture.Packets);

    public static IReadOnlyList<Conversation> Analyze(IEnumerable<CapturedPacket> packets, AnalysisOptions? options = null)
    {
        var engine = new AnalysisEngine((options ?? new AnalysisOptions()) with { KeepPackets = true }, null);
        foreach (var p in packets) engine.Add(p);
        return engine.Complete().Conversations;
    }

    /// <summary>Reads <paramref name="reader"/> to its end (or its damage), writing as it goes.</summary>
    public static AnalysisSummary Run(CaptureReader reader, AnalysisOptions options, IAnalysisWriter? writer)
    {
        var engine = new AnalysisEngine(options, writer);
        while (reader.TryRead(out var p)) engine.Add(p);
        engine.Summary.Format = reader.Format;
        engine.Summary.Compression = reader.Compression;
        engine.Summary.Error = reader.Error;
        return engine.Complete();
    }
}

/// <summary>The analysis itself: one frame at a time.</summary>
internal sealed class AnalysisEngine
{
    /// <summary>
    /// How many packets wait before they are written: a FIN that crosses the peer's shows, only when it
    /// arrives, that the rows since the peer's FIN were ESTABLISHED rather than CLOSE-WAIT (simultaneous
    /// close), and rows still here can be corrected.
    /// </summary>
    private const int Lag = 1024;

    private readonly AnalysisOptions _options;
    private readonly IAnalysisWriter? _writer;
    private readonly FrameDecoder _decoder;
    private readonly List<Conversation> _conversations = [];
    private readonly Dictionary<(IpAddr, ushort, IpAddr, ushort), Tracker> _open = [];
    private readonly Queue<Row> _pending = new();
    private DecodedFrame _frame;
    private long? _t0;

    public AnalysisEngine(AnalysisOptions options, IAnalysisWriter? writer)
    {
        _options = options;
        _writer = writer;
        _decoder = new FrameDecoder(options.VerifyChecksums);
        if (options.VerifyChecksums) Summary.TcpChecksumBad = 0;
    }

    public AnalysisSummary Summary { get; } = new();

    public void Add(CapturedPacket p)
    {
        Summary.Frames++;
        _decoder.Decode(p, ref _frame);
        switch (_frame.Kind)
        {
            case FrameKind.OtherIp:
                Summary.OtherIpFrames++;
                return;
            case FrameKind.NotIp:
                Summary.NonIpFrames++;
                return;
            case FrameKind.Fragment:
                Summary.FragmentFrames++;
                return;
            case FrameKind.Unsupported:
                Count(Summary.Unsupported, _frame.Skip!);
                return;
            case FrameKind.Malformed:
                Count(Summary.Malformed, _frame.Skip!);
                return;
        }
        Summary.TcpFrames++;
        if (_frame.IpChecksumBad) Summary.IpChecksumBad++;
        if (_frame.TcpChecksumGood == false) Summary.TcpChecksumBad++;
        ref readonly var tcp = ref _frame.Tcp;
        _t0 ??= p.TimestampNs;
        var a = (_frame.Source, tcp.SourcePort, _frame.Destination, tcp.DestinationPort);
        var b = (_frame.Destination, tcp.DestinationPort, _frame.Source, tcp.SourcePort);
        Tracker? tr = _open.TryGetValue(a, out var ta) ? ta : _open.TryGetValue(b, out var tb) ? tb : null;
        bool syn = (tcp.Flags & (TcpFlags.Syn | TcpFlags.Ack)) == TcpFlags.Syn;
        // A new SYN with another ISN on a used 4-tuple whose conversation has ended starts a new one.
        bool reused = false;
        if (tr is not null && syn && tr.Ended && tr.ClientIsnFrom(_frame.Source, tcp.SourcePort) != tcp.Seq.Value)
        {
            _open.Remove(tr.Key);
            tr.Finish();
            tr = null;
            reused = true;
        }
        if (tr is null)
        {
            bool srcIsClient = tcp.Flags.Has(TcpFlags.Syn)
                ? !tcp.Flags.Has(TcpFlags.Ack)
                : tcp.SourcePort > tcp.DestinationPort;
            var key = srcIsClient ? a : b;
            tr = new Tracker(new Conversation
            {
                Stream = _conversations.Count,
                Client = FourTuple.Format(key.Item1, key.Item2),
                Server = FourTuple.Format(key.Item3, key.Item4),
                FirstFrame = p.Frame,
            }, key);
            _conversations.Add(tr.Conv);
            _open[key] = tr;
        }
        var row = tr.Add(p, (p.TimestampNs - _t0.Value) / 1e9, _frame.Source == tr.Key.Item1 && tcp.SourcePort == tr.Key.Item2, in tcp, _frame.PayloadLength, reused, _frame.IpChecksumBad, _frame.TcpChecksumGood);
        _pending.Enqueue(row);
        while (_pending.Count > Lag) Emit(_pending.Dequeue());
    }

    private static void Count(SortedDictionary<string, long> d, string what) => d[what] = d.GetValueOrDefault(what) + 1;

    private void Emit(Row row)
    {
        row.Emitted = true;
        var c = row.Conv;
        if (_options.Stream is int n && c.Stream != n) return;
        if (_options.KeepPackets) c.Packets.Add(row.View);
        _writer?.Packet(c, row.View);
    }

    public AnalysisSummary Complete()
    {
        while (_pending.Count > 0) Emit(_pending.Dequeue());
        foreach (var tr in _open.Values) tr.Finish();
        _open.Clear();
        Summary.FragmentsAbandoned = _decoder.FragmentsAbandoned;
        Summary.Conversations = _options.Stream is int n ? _conversations.Where(c => c.Stream == n).ToList() : _conversations;
        _writer?.End(Summary);
        return Summary;
    }

    /// <summary>A packet's row while it may still be corrected.</summary>
    internal sealed class Row(Conversation conv, PacketView view)
    {
        public Conversation Conv { get; } = conv;
        public PacketView View { get; set; } = view;
        public bool Emitted { get; set; }
    }

    private sealed class Side
    {
        public bool HasBase;
        public uint Base;
        public bool Wscale;
        public int Shift;
        public long NextSeq;      // highest relative seq + len seen
        public long LastAck = -1; // last relative ack this side sent
        public long LastWindow = -1;
        public int DupAcks;
        public long? FinSeq;      // relative seq of this side's FIN
        public double LastDupAckTime;
        public SideOptions? Options;
        public bool LastWasKeepAlive;
        public double NextSeqTime = double.NegativeInfinity;
    }

    private sealed class Tracker(Conversation conv, (IpAddr, ushort, IpAddr, ushort) key)
    {
        private readonly Side _c = new(), _s = new();
        private InferredState _cs = InferredState.Closed, _ss = InferredState.Listen;
        private double? _synTime;
        private string _history = ""; // Zeek's letters, each once, in the order first seen

        public Conversation Conv { get; } = conv;
        public (IpAddr, ushort, IpAddr, ushort) Key { get; } = key;
        private readonly List<Row> _recent = []; // this conversation's rows not yet written, for the look-back
        // What the close and Zeek's conn_state are decided from, gathered as packets go by.
        private bool _anyRst, _firstRstFromClient, _synFromClient, _synAckFromServer, _established;
        private bool? _firstFinFromClient;
        private long _firstFinEnd;
        private bool _finC, _finS, _secondAcksFirst, _separateAck;

        public bool Ended => (_cs is InferredState.Closed or InferredState.TimeWait) && (_ss is InferredState.Closed or InferredState.TimeWait or InferredState.Listen) && Conv.PacketCount > 0;

        public uint? ClientIsnFrom(IpAddr src, ushort port) => src == Key.Item1 && port == Key.Item2 ? Conv.ClientIsn : Conv.ServerIsn;

        public Row Add(CapturedPacket p, double time, bool fromClient, in TcpHeader tcp, int len, bool reusedPorts, bool ipChecksumBad, bool? tcpChecksumGood)
        {
            var me = fromClient ? _c : _s;
            var peer = fromClient ? _s : _c;
            var f = tcp.Flags;
            bool syn = f.Has(TcpFlags.Syn), fin = f.Has(TcpFlags.Fin), rst = f.Has(TcpFlags.Rst), ack = f.Has(TcpFlags.Ack);
            if (syn)
            {
                me.HasBase = true;
                me.Base = tcp.Seq.Value;
                me.Options = new SideOptions(tcp.Options.HasMss ? tcp.Options.Mss : null, tcp.Options.HasWindowScale ? tcp.Options.WindowScale : null, tcp.Options.SackPermitted, tcp.Options.HasTimestamps);
                me.Wscale = tcp.Options.HasWindowScale;
                me.Shift = Math.Min((int)tcp.Options.WindowScale, 14);
                if (fromClient) { Conv.ClientIsn = tcp.Seq.Value; Conv.ClientOptions = me.Options; }
                else { Conv.ServerIsn = tcp.Seq.Value; Conv.ServerOptions = me.Options; }
                if (fromClient && !ack) _synTime ??= time;
            }
            if (!me.HasBase)
            {
                me.HasBase = true;
                me.Base = tcp.Seq.Value - 1; // mid-stream: the first byte seen is 1
            }
            long seq = unchecked((uint)(tcp.Seq.Value - me.Base));
            long ackRel = ack ? (peer.HasBase ? unchecked((uint)(tcp.Ack.Value - peer.Base)) : unchecked((uint)tcp.Ack.Value)) : 0;
            long segLen = len + (syn ? 1 : 0) + (fin ? 1 : 0);
            bool bothScale = _c.Wscale && _s.Wscale;
            long window = syn || !bothScale ? tcp.Window : (long)tcp.Window << me.Shift;

            // Findings, as Wireshark defines them (tcp.analysis.*), checked in Wireshark's order.
            var findings = new List<string>(2);
            if (reusedPorts) findings.Add("reused_ports");
            bool data = segLen > 0;
            bool plain = !syn && !fin && !rst;
            bool established = me.NextSeq > 0;
            if (len == 1 && plain && established && seq == me.NextSeq && peer.LastWindow == 0) findings.Add("zero_window_probe");
            if (window == 0 && !rst && !syn) findings.Add("zero_window");
            if (established && seq > me.NextSeq && !rst) findings.Add("lost_segment");
            bool keepAlive = len <= 1 && plain && established && seq == me.NextSeq - 1;
            if (keepAlive) findings.Add("keep_alive");
            if (len == 0 && plain && ack && window != 0 && me.LastWindow >= 0 && window != me.LastWindow && seq == me.NextSeq && ackRel == me.LastAck) findings.Add("window_update");
            if (len > 0 && plain && peer.LastAck >= 0 && peer.LastWindow >= 0 && seq + len == peer.LastAck + peer.LastWindow) findings.Add("window_full");
            bool keepAliveAck = len == 0 && plain && ack && window != 0 && window == me.LastWindow && seq == me.NextSeq && ackRel == me.LastAck && peer.LastWasKeepAlive;
            if (keepAliveAck) findings.Add("keep_alive_ack");
            if (len == 0 && plain && ack && !keepAlive && !keepAliveAck && !findings.Contains("window_update") && window != 0 && window == me.LastWindow
                && me.LastAck > 0 && established && ackRel == me.LastAck && seq == me.NextSeq) findings.Add("duplicate_ack");
            if (ack && peer.NextSeq > 0 && ackRel > peer.NextSeq && !syn) findings.Add("ack_lost_segment");
            if (data && established && seq < me.NextSeq && !keepAlive)
            {
                // Wireshark's order: fast retransmission, then spurious (data the receiver has already
                // acknowledged), then out of order (soon after the highest sequence number moved: within
                // the handshake RTT, or 3 ms without one), then plain.
                double threshold = Conv.HandshakeRttMs is double irtt ? irtt / 1000 : 0.003;
                if (peer.DupAcks >= 2 && peer.LastAck == seq && time - peer.LastDupAckTime <= 0.020)
                {
                    findings.Add("fast_retransmission");
                    findings.Add("retransmission");
                }
                else if (len > 0 && peer.LastAck > 0 && seq + segLen <= peer.LastAck)
                {
                    findings.Add("spurious_retransmission");
                    findings.Add("retransmission");
                }
                else if (seq + segLen != me.NextSeq && time - me.NextSeqTime < threshold) findings.Add("out_of_order");
                else findings.Add("retransmission");
            }
            me.LastWasKeepAlive = keepAlive;
            if (findings.Contains("duplicate_ack"))
            {
                me.DupAcks++;
                me.LastDupAckTime = time;
            }
            else if (ack && ackRel != me.LastAck) me.DupAcks = 0;

            if (seq + segLen > me.NextSeq)
            {
                me.NextSeq = seq + segLen;
                me.NextSeqTime = time;
            }
            if (ack)
            {
                if (ackRel > me.LastAck) me.LastAck = ackRel;
                me.LastWindow = window;
            }
            if (fin) me.FinSeq ??= seq + len;
            // Wireshark's initial RTT: from the SYN to the ACK that completes the handshake.
            if (fromClient && ack && !syn && _synTime is double st && Conv.ServerIsn is not null) Conv.HandshakeRttMs ??= (time - st) * 1000;
            if (fromClient) Conv.ClientBytes += len; else Conv.ServerBytes += len;

            Infer(fromClient, syn, ack, fin, rst, ackRel);
            Track(fromClient, syn, ack, fin, rst, len);
            Close(fromClient, f, seq, len, ackRel);
            if (_cs == InferredState.Established || _ss == InferredState.Established) _established = true;
            var row = new Row(Conv, new PacketView(p.Frame, time, fromClient, f, tcp.Seq.Value, ack ? tcp.Ack.Value : 0, seq, ackRel, len, window, findings, _cs, _ss, p.Comment, Conv.Stream, ipChecksumBad, tcpChecksumGood));
            if (_recent.Count >= 64 && _recent[0].Emitted) _recent.RemoveAll(r => r.Emitted);
            _recent.Add(row);
            Conv.PacketCount++;
            Conv.LastFrame = p.Frame;
            return row;
        }

        /// <summary>Gathers what the close kind and conn_state are decided from.</summary>
        private void Close(bool fromClient, TcpFlags f, long seq, int len, long ackRel)
        {
            bool ack = f.Has(TcpFlags.Ack);
            if (f.Has(TcpFlags.Rst) && !_anyRst)
            {
                _anyRst = true;
                _firstRstFromClient = fromClient;
            }
            if (fromClient && f == TcpFlags.Syn) _synFromClient = true;
            if (!fromClient && (f & (TcpFlags.Syn | TcpFlags.Ack)) == (TcpFlags.Syn | TcpFlags.Ack)) _synAckFromServer = true;
            if (_firstFinFromClient is bool firstC && fromClient != firstC && !(fromClient ? _finC : _finS))
            {
                // The other side, after the first FIN: does it acknowledge that FIN alone before its own?
                if (f.Has(TcpFlags.Fin)) _secondAcksFirst = ack && ackRel >= _firstFinEnd;
                else if (ack && ackRel >= _firstFinEnd) _separateAck = true;
            }
            if (f.Has(TcpFlags.Fin))
            {
                if (_firstFinFromClient is null)
                {
                    _firstFinFromClient = fromClient;
                    _firstFinEnd = seq + len + 1;
                }
                if (fromClient) _finC = true; else _finS = true;
            }
        }

        /// <summary>The conversation is over (or the capture is): its close kind, conn_state and history.</summary>
        public void Finish()
        {
            var c = Conv;
            if (_anyRst) c.CloseKind = "reset";
            else if (_finC && _finS) c.CloseKind = !_secondAcksFirst ? "simultaneous" : _separateAck ? "four-way" : "three-way";
            else if (_finC || _finS) c.CloseKind = "half-open";
            else c.CloseKind = "incomplete";
            c.ConnState = (_synFromClient, _synAckFromServer, _established, _anyRst, _finC && _finS) switch
            {
                (true, false, _, true, _) => "REJ",
                (true, false, false, false, _) when _finC => "SH",
                (true, false, false, false, _) => "S0",
                (_, _, true, true, _) => _firstRstFromClient ? "RSTO" : "RSTR",
                (true, true, true, false, true) => "SF",
                (true, true, true, false, false) => _finC ? "S2" : _finS ? "S3" : "S1",
                _ => "OTH",
            };
            c.History = _history;
        }

        private void Track(bool fromClient, bool syn, bool ack, bool fin, bool rst, int len)
        {
            void Add(char c)
            {
                char x = fromClient ? char.ToUpperInvariant(c) : char.ToLowerInvariant(c);
                if (!_history.Contains(x)) _history += x;
            }
            if (syn && !ack) Add('s');
            if (syn && ack) Add('h');
            if (ack && !syn) Add('a');
            if (len > 0) Add('d');
            if (fin) Add('f');
            if (rst) Add('r');
        }

        /// <summary>Moves the two inferred states as the packet would move the real ones (sender now, receiver on arrival).</summary>
        private void Infer(bool fromClient, bool syn, bool ack, bool fin, bool rst, long ackRel)
        {
            ref var me = ref (fromClient ? ref _cs : ref _ss);
            ref var other = ref (fromClient ? ref _ss : ref _cs);
            var meSide = fromClient ? _c : _s;
            var otherSide = fromClient ? _s : _c;
            if (rst)
            {
                me = InferredState.Closed;
                other = InferredState.Closed;
                return;
            }
            if (syn && !ack)
            {
                if (me is InferredState.Closed or InferredState.TimeWait or InferredState.Listen) me = InferredState.SynSent;
                if (other is InferredState.Listen or InferredState.Closed or InferredState.TimeWait) other = InferredState.SynReceived;
                return;
            }
            if (syn && ack)
            {
                me = InferredState.SynReceived;
                if (other == InferredState.SynSent) other = InferredState.Established;
                return;
            }
            // The sender's own transitions.
            if (me == InferredState.SynReceived && ack) me = InferredState.Established;
            if (fin)
            {
                // A FIN that does not acknowledge the peer's FIN, already on the wire, was sent before that
                // FIN arrived: both sides closed at once (simultaneous close, RFC 9293 figure 13).
                bool crossed = otherSide.FinSeq is long ofs && !(ack && ackRel >= ofs + 1);
                if (crossed && me == InferredState.CloseWait)
                {
                    // The peer's FIN had not arrived when we sent ours: we were ESTABLISHED, not CLOSE-WAIT.
                    for (int i = _recent.Count - 1; i >= 0 && !_recent[i].Emitted; i--)
                    {
                        var row = _recent[i].View;
                        var mine = fromClient ? row.ClientState : row.ServerState;
                        if (mine != InferredState.CloseWait) break;
                        _recent[i].View = fromClient ? row with { ClientState = InferredState.Established } : row with { ServerState = InferredState.Established };
                    }
                    me = InferredState.FinWait1;
                    if (other == InferredState.FinWait1) other = InferredState.Closing;
                    return;
                }
                me = me switch
                {
                    InferredState.Established or InferredState.SynReceived => InferredState.FinWait1,
                    InferredState.CloseWait => InferredState.LastAck,
                    _ => me,
                };
            }
            // An ACK of the peer's FIN tells us its sender has received that FIN.
            if (ack && !fin && otherSide.FinSeq is long peerFin && ackRel >= peerFin + 1)
            {
                me = me switch
                {
                    InferredState.FinWait1 => InferredState.Closing,
                    InferredState.FinWait2 => InferredState.TimeWait,
                    _ => me,
                };
            }
            // What the packet does on arrival.
            if (ack)
            {
                if (other == InferredState.SynReceived) other = InferredState.Established;
                bool acksOtherFin = otherSide.FinSeq is long fs && ackRel >= fs + 1;
                if (acksOtherFin)
                {
                    other = other switch
                    {
                        InferredState.FinWait1 => fin ? InferredState.TimeWait : InferredState.FinWait2,
                        InferredState.Closing => InferredState.TimeWait,
                        InferredState.LastAck => InferredState.Closed,
                        _ => other,
                    };
                }
            }
            if (fin)
            {
                other = other switch
                {
                    InferredState.Established => InferredState.CloseWait,
                    InferredState.FinWait1 => InferredState.Closing,
                    InferredState.FinWait2 => InferredState.TimeWait,
                    _ => other,
                };
                // The FIN's sender, in CLOSING, learns its FIN was acked when this FIN+ACK acks it: handled above.
                if (me == InferredState.FinWait1 && meSide.FinSeq is long mf && otherSide.LastAck >= mf + 1) me = InferredState.FinWait2;
            }
            if (me == InferredState.Closing && otherSide.LastAck >= (meSide.FinSeq ?? long.MaxValue) + 1) me = InferredState.TimeWait;
        }
    }
}
