using Synack.Tcp;
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

    /// <summary>Analyzes <paramref name="packets"/> at once, keeping every packet in its conversation (for tests and ladders; use the streaming overload for large captures).</summary>
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
        // A SYN with another ISN than the one its side started with is a new conversation on the same
        // ports (Wireshark's rule: whether or not the old one had closed); a SYN-ACK with another ISN is flagged.
        var flags = AnalysisFlags.None;
        if (tr is not null && tcp.Flags.Has(TcpFlags.Syn))
        {
            var fwd = tr.Flow(_frame.Source, tcp.SourcePort);
            if (fwd.BaseSet && fwd.Base != tcp.Seq.Value)
            {
                flags = AnalysisFlags.ReusedPorts;
                // A SYN-ACK after this side's numbers were only guessed (from a reset injected before
                // it, say): its ISN is the base from now on, as tshark numbers it.
                if (tcp.Flags.Has(TcpFlags.Ack) && !fwd.BaseFromSyn)
                {
                    fwd.Base = tcp.Seq.Value;
                    fwd.BaseFromSyn = true;
                }
                if (!tcp.Flags.Has(TcpFlags.Ack))
                {
                    _open.Remove(tr.Key);
                    tr.Finish();
                    tr = null;
                }
            }
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
        var row = tr.Add(p, (p.TimestampNs - _t0.Value) / 1e9, _frame.Source == tr.Key.Item1 && tcp.SourcePort == tr.Key.Item2, in tcp, _frame.PayloadLength, flags, _frame.IpChecksumBad, _frame.TcpChecksumGood, analyze: !_frame.Fragmented, relative: _frame.ShortSegment);
        _pending.Enqueue(row);
        while (_pending.Count > Lag) Emit(_pending.Dequeue());
    }

    private static void Count(SortedDictionary<string, long> d, string what) => d[what] = d.GetValueOrDefault(what) + 1;

    private void Emit(Row row)
    {
        row.Emitted = true;
        row.Owner.Written();
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
    internal sealed class Row(Tracker owner, PacketView view)
    {
        public Tracker Owner { get; } = owner;
        public Conversation Conv => Owner.Conv;
        public PacketView View { get; set; } = view;
        public bool Emitted { get; set; }
    }

    private sealed class Side
    {
        public readonly FlowState Flow = new();
        public long? FinSeq;      // relative seq of this side's FIN
        public long HighestAck = -1; // the highest relative ack this side sent (for the inferred states)
        public SideOptions? Options;
    }

    internal sealed class Tracker(Conversation conv, (IpAddr, ushort, IpAddr, ushort) key)
    {
        private readonly Side _c = new(), _s = new();
        private TcpState _cs = TcpState.Closed, _ss = TcpState.Listen;
        private long _mruSynNs = -1; // the most recent SYN: the handshake RTT runs from it (Wireshark's ts_mru_syn)
        private long _firstRttNs;
        private string _history = ""; // Zeek's letters, each once, in the order first seen

        public Conversation Conv { get; } = conv;
        public (IpAddr, ushort, IpAddr, ushort) Key { get; } = key;
        private readonly List<Row> _recent = []; // this conversation's rows not yet written, for the look-back
        private int _written; // how many of _recent, from the front, have been written
        // What the close and Zeek's conn_state are decided from, gathered as packets go by.
        private bool _anyRst, _firstRstFromClient, _synFromClient, _synAckFromServer, _established;
        private bool? _firstFinFromClient;
        private long _firstFinEnd;
        private bool _finC, _finS, _secondAcksFirst, _separateAck;

        public FlowState Flow(IpAddr src, ushort port) => src == Key.Item1 && port == Key.Item2 ? _c.Flow : _s.Flow;

        /// <param name="analyze">False for a segment whose length is unknown (a first fragment that cannot be reassembled, a short segment): shown, no analysis, no state moved.</param>
        /// <param name="relative">Its numbers relative to the bases already known (a short segment); else raw (a fragment, a quoted header).</param>
        public Row Add(CapturedPacket p, double time, bool fromClient, in TcpHeader tcp, int len, AnalysisFlags initial, bool ipChecksumBad, bool? tcpChecksumGood, bool analyze = true, bool relative = false)
        {
            if (!analyze)
            {
                var own = fromClient ? _c.Flow : _s.Flow;
                var other = fromClient ? _s.Flow : _c.Flow;
                long seqShown = relative && own.BaseSet ? unchecked(tcp.Seq.Value - own.Base) : tcp.Seq.Value;
                long ackShown = relative && other.BaseSet && tcp.Flags.Has(TcpFlags.Ack) ? unchecked(tcp.Ack.Value - other.Base) : tcp.Ack.Value;
                var bare = new Row(this, new PacketView(p.Frame, time, fromClient, tcp.Flags, tcp.Seq.Value, tcp.Ack.Value, seqShown, ackShown, 0, tcp.Window,
                    SequenceAnalysis.Names(initial), _cs, _ss, p.Comment, Conv.Stream, ipChecksumBad, tcpChecksumGood));
                Keep(bare, p.Frame);
                return bare;
            }
            var me = fromClient ? _c : _s;
            var peer = fromClient ? _s : _c;
            var f = tcp.Flags;
            bool syn = f.Has(TcpFlags.Syn), fin = f.Has(TcpFlags.Fin), rst = f.Has(TcpFlags.Rst), ack = f.Has(TcpFlags.Ack);
            if (syn)
            {
                me.Options = new SideOptions(tcp.Options.HasMss ? tcp.Options.Mss : null, tcp.Options.HasWindowScale ? tcp.Options.WindowScale : null, tcp.Options.SackPermitted, tcp.Options.HasTimestamps);
                if (fromClient) { Conv.ClientIsn = tcp.Seq.Value; Conv.ClientOptions = me.Options; }
                else { Conv.ServerIsn = tcp.Seq.Value; Conv.ServerOptions = me.Options; }
                SequenceAnalysis.WindowScale(me.Flow, peer.Flow, in tcp);
            }
            // Wireshark's initial RTT: from the most recent SYN to the first ACK without SYN after it.
            if (_firstRttNs == 0)
            {
                if (syn && !ack) _mruSynNs = p.TimestampNs;
                else if (ack && !syn && _mruSynNs >= 0)
                {
                    _firstRttNs = p.TimestampNs - _mruSynNs;
                    Conv.HandshakeRttMs = _firstRttNs / 1e6;
                }
            }
            var flags = initial | SequenceAnalysis.Analyze(me.Flow, peer.Flow, tcp.Seq.Value, tcp.Ack.Value, (uint)len, f, tcp.Window, p.TimestampNs, _firstRttNs);
            long seq = unchecked(tcp.Seq.Value - me.Flow.Base);
            long ackRel = ack ? unchecked(tcp.Ack.Value - peer.Flow.Base) : tcp.Ack.Value;
            long window = !syn && me.Flow.WinScale >= 0 ? (long)tcp.Window << me.Flow.WinScale : tcp.Window;
            var findings = SequenceAnalysis.Names(flags);
            if (ack && ackRel > me.HighestAck) me.HighestAck = ackRel;
            if (fin) me.FinSeq ??= seq + len;
            if (fromClient) Conv.ClientBytes += len; else Conv.ServerBytes += len;

            Infer(fromClient, syn, ack, fin, rst, ackRel);
            Track(fromClient, syn, ack, fin, rst, len);
            Close(fromClient, f, seq, len, ackRel);
            if (_cs == TcpState.Established || _ss == TcpState.Established) _established = true;
            (long, long)[]? sacks = null;
            if (tcp.Options.SackBlockCount > 0)
            {
                // Relative to the sequence space they are about: the other side's.
                sacks = new (long, long)[tcp.Options.SackBlockCount];
                for (int i = 0; i < sacks.Length; i++)
                    sacks[i] = (unchecked(tcp.Options.SackBlocks[i].Left.Value - peer.Flow.Base), unchecked(tcp.Options.SackBlocks[i].Right.Value - peer.Flow.Base));
            }
            var row = new Row(this, new PacketView(p.Frame, time, fromClient, f, tcp.Seq.Value, tcp.Ack.Value, seq, ackRel, len, window, findings, _cs, _ss, p.Comment, Conv.Stream, ipChecksumBad, tcpChecksumGood, sacks));
            Keep(row, p.Frame);
            return row;
        }

        /// <summary>
        /// One more of this conversation's rows was written. Rows leave in frame order, so the written
        /// ones are a prefix: dropped all at once when every row is written (a conversation that has
        /// ended keeps no packet), else in blocks, never searched for.
        /// </summary>
        public void Written()
        {
            while (_written < _recent.Count && _recent[_written].Emitted) _written++;
            if (_written == _recent.Count) _recent.Clear();
            else if (_written >= 256) _recent.RemoveRange(0, _written);
            else return;
            _written = 0;
        }

        private void Keep(Row row, int frame)
        {
            _recent.Add(row);
            Conv.PacketCount++;
            Conv.LastFrame = frame;
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
                me = TcpState.Closed;
                other = TcpState.Closed;
                return;
            }
            if (syn && !ack)
            {
                if (me is TcpState.Closed or TcpState.TimeWait or TcpState.Listen) me = TcpState.SynSent;
                if (other is TcpState.Listen or TcpState.Closed or TcpState.TimeWait) other = TcpState.SynReceived;
                return;
            }
            if (syn && ack)
            {
                me = TcpState.SynReceived;
                if (other == TcpState.SynSent) other = TcpState.Established;
                return;
            }
            // The sender's own transitions.
            if (me == TcpState.SynReceived && ack) me = TcpState.Established;
            if (fin)
            {
                // A FIN that does not acknowledge the peer's FIN, already on the wire, was sent before that
                // FIN arrived: both sides closed at once (simultaneous close, RFC 9293 figure 13).
                bool crossed = otherSide.FinSeq is long ofs && !(ack && ackRel >= ofs + 1);
                if (crossed && me == TcpState.CloseWait)
                {
                    // The peer's FIN had not arrived when we sent ours: we were ESTABLISHED, not CLOSE-WAIT.
                    for (int i = _recent.Count - 1; i >= 0 && !_recent[i].Emitted; i--)
                    {
                        var row = _recent[i].View;
                        var mine = fromClient ? row.ClientState : row.ServerState;
                        if (mine != TcpState.CloseWait) break;
                        _recent[i].View = fromClient ? row with { ClientState = TcpState.Established } : row with { ServerState = TcpState.Established };
                    }
                    me = TcpState.FinWait1;
                    if (other == TcpState.FinWait1) other = TcpState.Closing;
                    return;
                }
                me = me switch
                {
                    TcpState.Established or TcpState.SynReceived => TcpState.FinWait1,
                    TcpState.CloseWait => TcpState.LastAck,
                    _ => me,
                };
            }
            // An ACK of the peer's FIN tells us its sender has received that FIN.
            if (ack && !fin && otherSide.FinSeq is long peerFin && ackRel >= peerFin + 1)
            {
                me = me switch
                {
                    TcpState.FinWait1 => TcpState.Closing,
                    TcpState.FinWait2 => TcpState.TimeWait,
                    _ => me,
                };
            }
            // What the packet does on arrival.
            if (ack)
            {
                if (other == TcpState.SynReceived) other = TcpState.Established;
                bool acksOtherFin = otherSide.FinSeq is long fs && ackRel >= fs + 1;
                if (acksOtherFin)
                {
                    other = other switch
                    {
                        TcpState.FinWait1 => fin ? TcpState.TimeWait : TcpState.FinWait2,
                        TcpState.Closing => TcpState.TimeWait,
                        TcpState.LastAck => TcpState.Closed,
                        _ => other,
                    };
                }
            }
            if (fin)
            {
                other = other switch
                {
                    TcpState.Established => TcpState.CloseWait,
                    TcpState.FinWait1 => TcpState.Closing,
                    TcpState.FinWait2 => TcpState.TimeWait,
                    _ => other,
                };
                // The FIN's sender, in CLOSING, learns its FIN was acked when this FIN+ACK acks it: handled above.
                if (me == TcpState.FinWait1 && meSide.FinSeq is long mf && otherSide.HighestAck >= mf + 1) me = TcpState.FinWait2;
            }
            if (me == TcpState.Closing && otherSide.HighestAck >= (meSide.FinSeq ?? long.MaxValue) + 1) me = TcpState.TimeWait;
        }
    }
}
