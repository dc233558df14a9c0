using System.Buffers;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// One host: IP in and out, the connection table keyed by 4-tuple, listeners with SYN and accept
/// queues, RST for closed ports, ephemeral ports, a compact TIME-WAIT table, and one timer wheel for
/// everything. Single-threaded and clock-free: the caller gives it packets and <c>now</c>, and asks
/// <see cref="NextWakeup"/> when to call <see cref="Advance"/>.
/// </summary>
public sealed class NetworkStack : INetworkNode, IConnectionHost, IDisposable
{
    private readonly ConnectionTable _connections = new();
    private readonly Dictionary<(IpAddr? Address, ushort Port), Listener> _listeners = new();
    private readonly TimeWaitTable _timeWait = new();
    private readonly TimerWheel<StackConnection> _wheel = new(0);
    private readonly List<StackConnection> _expired = [];
    private readonly List<StackConnection> _touched = [];
    private readonly HashSet<IpAddr> _addresses;
    private readonly IIsnGenerator _isn;
    private readonly SynCookies _cookies;
    private readonly EphemeralPorts _ports;
    private readonly ILogger _log;
    private readonly StackMetrics _metrics;
    private TimeSpan _now;

    /// <summary>A host with <paramref name="options"/>; give it a loop (a <see cref="StackThread"/>, or a simulated network) and a link before use.</summary>
    public NetworkStack(StackOptions options)
    {
        _log = options.LoggerFactory?.CreateLogger("Synack.Stack") ?? NullLogger.Instance;
        Options = options;
        _addresses = [.. options.Addresses];
        var secret = options.Secret ?? RandomNumberGenerator.GetBytes(32);
        _isn = options.IsnGenerator ?? new Rfc6528IsnGenerator(secret);
        _ports = new EphemeralPorts(secret, options.EphemeralPortMin, options.EphemeralPortMax);
        _cookies = new SynCookies(secret);
        _metrics = new StackMetrics(this, options.MeterFactory);
    }

    /// <summary>What the stack was made with.</summary>
    public StackOptions Options { get; }
    /// <summary>The host's name (<see cref="StackOptions.Name"/>).</summary>
    public string Name => Options.Name;
    /// <summary>Packets in and out, drops by reason, resets, connections: also published by the meter "Synack.Stack".</summary>
    public StackStatistics Statistics { get; } = new();
    /// <summary>Where the stack's packets go (a link, a TUN device).</summary>
    public IPacketSink? Output { get; set; }
    /// <summary>What observes the stack (see <see cref="AddObserver"/>), or null.</summary>
    public IStackObserver? Observer { get; private set; }

    /// <summary>Adds an observer (a capture tap, a trace, metrics); all are called in the order added.</summary>
    public void AddObserver(IStackObserver observer)
    {
        if (Observer is null) Observer = observer;
        else if (Observer is ObserverList list) list.Add(observer);
        else Observer = new ObserverList(Observer, observer);
    }
    /// <summary>The loop this stack runs on; the socket API goes through it.</summary>
    public IStackLoop? Loop { get; set; }

    /// <summary>The shards this stack is one of (see <see cref="ShardSet"/>); null for a stack on its own.</summary>
    public ShardSet? Shards { get; internal set; }
    /// <summary>The stack's clock: the time of the packet, call or timer it is handling.</summary>
    public TimeSpan Now => _now;
    /// <summary>Connections the stack keeps (TIME-WAIT entries are in <see cref="TimeWaitCount"/>).</summary>
    public int ConnectionCount => _connections.Count;
    /// <summary>Tuples waiting out TIME-WAIT without a connection object.</summary>
    public int TimeWaitCount => _timeWait.Count;
    /// <summary>The first address: the source of connections that do not choose one.</summary>
    public IpAddr PrimaryAddress => Options.Addresses[0];
    IReadOnlyList<IpAddr> INetworkNode.Addresses => Options.Addresses;

    /// <summary>When <see cref="Advance"/> should next be called; null when no timer runs.</summary>
    public TimeSpan? NextWakeup
    {
        get
        {
            TimeSpan? wheel = _wheel.NextWakeup() is long ms ? TimeSpan.FromMilliseconds(ms) : null;
            // TIME-WAIT keeps its own heap; the wheel's millisecond ticks round up, so do the same here.
            TimeSpan? timeWait = _timeWait.NextExpiry is TimeSpan t ? TimeSpan.FromMilliseconds(Math.Ceiling(t.TotalMilliseconds)) : null;
            return wheel is null ? timeWait : timeWait is null ? wheel : wheel < timeWait ? wheel : timeWait;
        }
    }

    // ------------------------------------------------------------------ input

    /// <summary>Fires every timer due by <paramref name="now"/>.</summary>
    public void Advance(TimeSpan now)
    {
        if (now > _now) _now = now;
        _expired.Clear();
        _wheel.Advance((long)Math.Floor(_now.TotalMilliseconds), _expired);
        foreach (var sc in _expired)
        {
            FireConnectionTimers(sc, _now);
            Observer?.InputDone(this, _now);
        }
        _timeWait.ExpireDue(TimeSpan.FromMilliseconds(Math.Floor(_now.TotalMilliseconds)), _timeWaitExpired ??= TimeWaitExpired);
    }

    /// <summary>Takes one IP packet from the link.</summary>
    public void Receive(ReadOnlySpan<byte> packet, TimeSpan now) => Receive(packet, now, 0, checksumOffloaded: false);

    /// <summary>
    /// A packet from a link that offloads: <paramref name="segmentSize"/> &gt; 0 when it joins several
    /// segments of that size (GRO); <paramref name="checksumOffloaded"/> when the link vouches for the
    /// bytes and the TCP checksum field may hold only the pseudo-header's sum (a partial checksum).
    /// </summary>
    public void Receive(ReadOnlySpan<byte> packet, TimeSpan now, int segmentSize, bool checksumOffloaded)
    {
        Advance(now);
        try
        {
            ReceiveOne(packet, segmentSize, checksumOffloaded);
        }
        finally
        {
            Observer?.InputDone(this, _now);
        }
    }

    private void ReceiveOne(ReadOnlySpan<byte> packet, int segmentSize = 0, bool checksumOffloaded = false)
    {
        Statistics.PacketsIn++;
        if (!IpHeader.TryParse(packet, out var ip, out var error))
        {
            Drop(packet, error);
            return;
        }
        if (!_addresses.Contains(ip.Destination))
        {
            Drop(packet, DropReason.NotForThisHost);
            return;
        }
        if (ip.Protocol == (ip.Source.IsV6 ? 58 : 1)) // ICMP or ICMPv6
        {
            HandleIcmp(packet.Slice(ip.HeaderLength, ip.PayloadLength), in ip);
            return;
        }
        if (!TcpPacket.TryParse(packet, out ip, out var tcp, out error, verifyChecksum: !checksumOffloaded))
        {
            Drop(packet, error);
            return;
        }
        Observer?.PacketIn(this, packet, _now);
        var payload = TcpPacket.Payload(packet, ip, tcp);
        var tuple = new FourTuple(ip.Destination, tcp.DestinationPort, ip.Source, tcp.SourcePort);

        if (_connections.TryGet(tuple, out var sc))
        {
            sc.Connection.OnSegment(in tcp, payload, _now, segmentSize);
            AfterInput(sc);
            return;
        }
        if (_timeWait.Get(tuple) is { } tw)
        {
            if (HandleTimeWait(tw, in tcp, payload.Length) != TimeWaitVerdict.Reopen) return;
            // Linux (tcp_timewait_state_process) starts the new incarnation past anything the old one
            // sent: ISS = the old SND.NXT + 65535 + 2.
            if (tw.Options.ReopenIsnAfterOldSequence) _reopenIsn = tw.SndNxt + 65537;
        }
        if (Shards?.TryHandOver(this, tuple, packet, segmentSize, checksumOffloaded) == true) return;

        var listener = FindListener(ip.Destination, tcp.DestinationPort);
        if (listener is null)
        {
            _reopenIsn = null;
            Statistics.Drop(DropReason.NoConnection);
            Observer?.PacketDropped(this, packet, DropReason.NoConnection, _now);
            ReplyReset(in tuple, in tcp, payload.Length);
            return;
        }
        try
        {
            AcceptSyn(listener, in tuple, in tcp, payload, packet, segmentSize);
        }
        finally
        {
            _reopenIsn = null;
        }
    }

    // The ISS a SYN reopening a TIME-WAIT connection gets, for the connection made while it is handled.
    private SeqNum? _reopenIsn;

    /// <summary>An ICMP error quoting one of our segments goes to its connection; anything else is dropped.</summary>
    private void HandleIcmp(ReadOnlySpan<byte> icmp, in IpHeader ip)
    {
        bool v6 = ip.Source.IsV6;
        uint pseudo = v6 ? InternetChecksum.PseudoHeader(ip.Source, ip.Destination, 58, icmp.Length) : 0;
        if (InternetChecksum.Fold(InternetChecksum.Add(pseudo, icmp)) != 0)
        {
            Statistics.Drop(ParseError.BadChecksum);
            return;
        }
        if (!IcmpError.TryParse(icmp, v6, out var error) || !_connections.TryGet(error.Quoted, out var sc))
        {
            Statistics.Drop(DropReason.NoConnection);
            return;
        }
        sc.Connection.OnIcmpError(in error, _now);
        AfterInput(sc);
    }

    private void AcceptSyn(Listener listener, in FourTuple tuple, in TcpHeader tcp, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> packet, int segmentSize)
    {
        var flags = tcp.Flags;
        if (flags.Has(TcpFlags.Rst)) return;
        if (flags.Has(TcpFlags.Ack) && !flags.Has(TcpFlags.Syn))
        {
            if (ReturnsCookie(listener, in tuple, in tcp, out var mss))
            {
                OpenFromCookie(listener, in tuple, in tcp, payload, packet, mss, segmentSize);
                return;
            }
            ReplyReset(in tuple, in tcp, payload.Length); // LISTEN: <SEQ=SEG.ACK><CTL=RST>
            return;
        }
        if (flags.Has(TcpFlags.Ack))
        {
            ReplyReset(in tuple, in tcp, payload.Length);
            return;
        }
        if (!flags.Has(TcpFlags.Syn)) return;
        if (listener.Options.DropSynFin && flags.Has(TcpFlags.Fin)) return;
        var cookies = listener.Options.SynCookies;
        // Each queue is bounded by the backlog on its own, as Linux bounds them (tcp_conn_request): a
        // cookie only when the SYN queue itself is full (inet_csk_reqsk_queue_is_full). Counting the
        // accept queue in too sent cookies to ordinary clients of a server that accepted a little
        // late, and a cookie's final ACK that then met a full accept queue was lost for good: the
        // client held a connection the server had no trace of (1,149 of 150,000 in the hold bench).
        bool synQueueFull = listener.HalfOpen >= listener.Backlog;
        bool acceptQueueFull = listener.AcceptQueue.Count >= listener.Backlog;
        // A full accept queue is the application falling behind, not a flood: a cookie would only make
        // one more connection it cannot take, so the SYN is dropped either way (as Linux does).
        if ((cookies == SynCookieMode.Always || synQueueFull && cookies == SynCookieMode.WhenNeeded) && !acceptQueueFull)
        {
            SendCookie(listener, in tuple, in tcp);
            return;
        }
        // A SYN beyond either bound is dropped, and the peer's SYN retransmission tries again later
        // (Linux does the same when SYN cookies are off).
        if (synQueueFull || acceptQueueFull)
        {
            Statistics.Drop(DropReason.ListenQueueFull);
            if (_log.IsEnabled(LogLevel.Warning) && listener.MayWarn(_now)) StackLog.ListenQueueFull(_log, Name, listener.Port, listener.Backlog, Statistics.Dropped(DropReason.ListenQueueFull));
            Observer?.PacketDropped(this, packet, DropReason.ListenQueueFull, _now);
            return;
        }
        if (AtLimit(listener, packet)) return;
        var sc = NewPassive(listener, in tuple);
        sc.Connection.OnSegment(in tcp, payload, _now);
        AfterInput(sc);
    }

    /// <summary>True (and the packet dropped, counted, and said once a minute) when a new connection would pass the stack's or the listener's limit.</summary>
    private bool AtLimit(Listener listener, ReadOnlySpan<byte> packet)
    {
        int limit = _connections.Count >= Options.MaxConnections ? Options.MaxConnections
            : listener.Live >= listener.MaxConnections ? listener.MaxConnections
            : -1;
        if (limit < 0) return false;
        Statistics.Drop(DropReason.ConnectionLimit);
        if (_log.IsEnabled(LogLevel.Warning) && listener.MayWarn(_now)) StackLog.ConnectionLimit(_log, Name, listener.Port, limit, Statistics.Dropped(DropReason.ConnectionLimit));
        Observer?.PacketDropped(this, packet, DropReason.ConnectionLimit, _now);
        return true;
    }

    /// <summary>A connection in LISTEN for <paramref name="listener"/>, counted in its SYN queue until it is established.</summary>
    private StackConnection NewPassive(Listener listener, in FourTuple tuple)
    {
        var sc = NewConnection(tuple, listener.Options);
        sc.Listener = listener;
        sc.InSynQueue = true;
        listener.HalfOpen++;
        listener.Live++;
        sc.Connection.OpenPassive();
        return sc;
    }

    /// <summary>A SYN-ACK whose ISS is a cookie (<see cref="SynCookies"/>); nothing is kept.</summary>
    private void SendCookie(Listener listener, in FourTuple tuple, in TcpHeader syn)
    {
        var o = listener.Options;
        int peerMss = syn.Options.HasMss ? syn.Options.Mss : o.PeerMssWithoutOption(tuple.RemoteAddress.IsV6);
        var cookie = _cookies.Create(in tuple, syn.Seq, peerMss, _now, out _);
        uint tsNow = syn.Options.HasTimestamps ? TimestampClock.Value(_now, _isn.TimestampOffset(tuple)) : 0; // the offset costs an HMAC: only when used
        var synAck = Connection.CookieSynAck(in tuple, in syn, o, cookie, tsNow);
        (synAck.Dscp, synAck.HopLimit) = (o.Dscp, o.HopLimit);
        listener.CookieSentAt = _now;
        Statistics.SynCookiesSent++;
        if (_log.IsEnabled(LogLevel.Warning) && listener.MayWarn(_now)) StackLog.SendingCookies(_log, Name, listener.Port, Statistics.SynCookiesSent);
        Send(tuple, in synAck, default, o.SynOptionLayout);
    }

    /// <summary>
    /// Whether an ACK with no connection returns a cookie of this listener's: checked only while
    /// cookies may be out (two minutes after the last, or always on), so a stray ACK costs no hash.
    /// </summary>
    private bool ReturnsCookie(Listener listener, in FourTuple tuple, in TcpHeader ack, out ushort mss)
    {
        mss = 0;
        var mode = listener.Options.SynCookies;
        if (mode == SynCookieMode.Off) return false;
        if (mode != SynCookieMode.Always && (listener.CookieSentAt is not TimeSpan sent || _now - sent > TimeSpan.FromMinutes(2))) return false;
        if (_cookies.TryCheck(in tuple, ack.Seq - 1, ack.Ack - 1, _now, out mss)) return true;
        Statistics.SynCookiesFailed++;
        return false;
    }

    private void OpenFromCookie(Listener listener, in FourTuple tuple, in TcpHeader ack, ReadOnlySpan<byte> payload, ReadOnlySpan<byte> packet, ushort mss, int segmentSize)
    {
        if (listener.AcceptQueue.Count >= listener.Backlog)
        {
            // The application is not accepting: the ACK is dropped and the peer sends it again (Linux's ListenOverflows).
            Statistics.Drop(DropReason.ListenQueueFull);
            Observer?.PacketDropped(this, packet, DropReason.ListenQueueFull, _now);
            return;
        }
        if (AtLimit(listener, packet)) return;
        var sc = NewPassive(listener, in tuple);
        sc.Connection.OpenFromCookie(in ack, mss);
        Statistics.SynCookiesValid++;
        sc.Connection.OnSegment(in ack, payload, _now, segmentSize);
        AfterInput(sc);
    }

    private StackConnection NewConnection(FourTuple tuple, ConnectionOptions options)
    {
        var sc = new StackConnection();
        sc.Connection = new Connection(tuple, options, _reopenIsn is SeqNum iss ? new ReopenIsn(iss, _isn) : _isn, this)
        {
            Tag = sc,
            SegmentationOffload = Output is IBatchingPacketSink { MaxSegmentBytes: > 0 } tso ? tso.MaxSegmentBytes : 0,
        };
        _connections.Add(sc);
        return sc;
    }

    /// <summary>One ISS decided by the TIME-WAIT connection a SYN reopens; the timestamp offset stays the stack's.</summary>
    private sealed class ReopenIsn(SeqNum iss, IIsnGenerator stack) : IIsnGenerator
    {
        public SeqNum Next(in FourTuple tuple, TimeSpan now) => iss;
        public uint TimestampOffset(in FourTuple tuple) => stack.TimestampOffset(tuple);
    }

    private Listener? FindListener(IpAddr address, ushort port) =>
        _listeners.TryGetValue((address, port), out var l) ? l : _listeners.TryGetValue((null, port), out l) ? l : null;

    private void ReplyReset(in FourTuple tuple, in TcpHeader tcp, int payloadLength)
    {
        if (!Connection.ResetForUnknownSegment(in tcp, payloadLength, out var rst)) return;
        // A socket bound to the port but not listening answers with its own IP fields, as BSD's inpcb does.
        if (_bound.TryGetValue(tuple.LocalPort, out var fields)) (rst.Dscp, rst.HopLimit) = fields;
        Statistics.ResetsSent++;
        Send(tuple, in rst, default, TcpOptionLayout.Established);
    }

    private void Drop(ReadOnlySpan<byte> packet, ParseError error)
    {
        Statistics.Drop(error);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, Name, error == ParseError.BadChecksum ? DropReason.BadChecksum : DropReason.Malformed);
        Observer?.PacketDropped(this, packet, error == ParseError.BadChecksum ? DropReason.BadChecksum : DropReason.Malformed, _now);
    }

    private void Drop(ReadOnlySpan<byte> packet, DropReason reason)
    {
        Statistics.Drop(reason);
        if (_log.IsEnabled(LogLevel.Debug)) StackLog.Dropped(_log, Name, reason);
        Observer?.PacketDropped(this, packet, reason, _now);
    }

    // ------------------------------------------------------------------ TIME-WAIT

    /// <summary>The rules are <see cref="TimeWaitState.Handle"/>'s; the stack sends, counts, and keeps the table.</summary>
    private TimeWaitVerdict HandleTimeWait(TimeWaitState tw, in TcpHeader seg, int payloadLength)
    {
        var expires = tw.Expires;
        var verdict = tw.Handle(in seg, payloadLength, _now, Options.ReuseTimeWait, out var reply, out bool send);
        if (send)
        {
            if (reply.Flags.Has(TcpFlags.Rst)) Statistics.ResetsSent++;
            Send(tw.Tuple, in reply, default, TcpOptionLayout.Established);
        }
        switch (verdict)
        {
            case TimeWaitVerdict.Keep:
                if (tw.Expires != expires) _timeWait.Restart(tw.Tuple, tw.Expires); // a retransmitted FIN restarts 2 MSL
                break;
            case TimeWaitVerdict.Drop:
                Statistics.Drop(DropReason.TimeWait);
                break;
            case TimeWaitVerdict.Close:
                RemoveTimeWait(tw);
                break;
            case TimeWaitVerdict.Reopen:
                RemoveTimeWait(tw);
                Statistics.TimeWaitReused++;
                break;
        }
        return verdict;
    }

    private Action<FourTuple>? _timeWaitExpired;

    private void TimeWaitExpired(FourTuple tuple)
    {
        Observer?.TimerFired(this, tuple, TcpTimer.TimeWait, _now);
        Observer?.StateChanged(this, tuple, TcpState.TimeWait, TcpState.Closed, "2MSL timeout", _now);
        Observer?.InputDone(this, _now);
    }

    private void RemoveTimeWait(TimeWaitState tw) => _timeWait.Remove(tw.Tuple);

    // ------------------------------------------------------------------ after every input

    /// <summary>
    /// After a connection has taken an input: re-arm its timer, move it to the accept queue, into the
    /// compact TIME-WAIT table, or out of the table once CLOSED.
    /// </summary>
    internal void AfterInput(StackConnection sc)
    {
        Bookkeep(sc);
        sc.Observer?.Settled();
    }

    /// <summary>A user call on a connection is done: the stack's bookkeeping, then the observers.</summary>
    internal void AfterUserCall(StackConnection sc)
    {
        AfterInput(sc);
        Observer?.InputDone(this, _now);
    }

    private void Bookkeep(StackConnection sc)
    {
        if (sc.Detached) return; // already out of the table (closed, or handed to the TIME-WAIT table)
        var c = sc.Connection;
        var listener = sc.Listener;
        if (sc.InSynQueue && listener is not null && c.State is not (TcpState.SynReceived or TcpState.Listen))
        {
            // Out of the SYN queue: into the accept queue, unless it died on the way.
            listener.HalfOpen--;
            sc.InSynQueue = false;
            if (c.State != TcpState.Closed && !listener.Closed)
            {
                listener.AcceptQueue.Enqueue(sc);
                Statistics.ConnectionsAccepted++;
                listener.Ready?.Invoke();
            }
        }
        switch (c.State)
        {
            case TcpState.Listen:
                // A half-open connection that went back to LISTEN (RST, SYN-ACK retries out): the
                // listener still listens; this spawned TCB is freed.
                if (sc.InSynQueue && sc.Listener is not null) sc.Listener.HalfOpen--;
                sc.InSynQueue = false;
                Remove(sc);
                return;
            case TcpState.Closed:
                Remove(sc);
                return;
            case TcpState.TimeWait:
                ToTimeWait(sc);
                return;
        }
        var deadline = c.NextDeadline;
        if (deadline == TimeSpan.MaxValue) _wheel.Cancel(sc);
        else Arm(sc, deadline);
    }

    /// <summary>
    /// The application has closed an accepted connection that still drains (FIN-WAIT, LAST-ACK): it no
    /// longer counts against its listener's limit, so a server that lets idle clients go (slowloris)
    /// frees their places at once rather than when their FIN-WAIT-2 runs out.
    /// </summary>
    internal void Orphaned(StackConnection sc)
    {
        if (!sc.Detached && !sc.Orphan)
        {
            if (_orphans >= Options.MaxOrphans)
            {
                // Too many closed connections still draining (Linux's tcp_max_orphans): this one is
                // reset instead of kept, as Linux does with "too many orphaned sockets".
                Statistics.OrphansReset++;
                if (_log.IsEnabled(LogLevel.Warning) && (_orphanWarnedAt is not TimeSpan t || _now - t >= TimeSpan.FromMinutes(1)))
                {
                    _orphanWarnedAt = _now;
                    StackLog.TooManyOrphans(_log, Name, Options.MaxOrphans, Statistics.OrphansReset);
                }
                Abort(sc);
            }
            else
            {
                sc.Orphan = true;
                _orphans++;
            }
        }
        if (sc.InSynQueue || sc.Listener is not { } born) return;
        born.Live--;
        sc.Listener = null;
    }

    private int _orphans;
    private TimeSpan? _orphanWarnedAt;

    /// <summary>Connections their applications have closed that still drain (FIN-WAIT, CLOSING, LAST-ACK).</summary>
    public int OrphanCount => _orphans;

    private void ToTimeWait(StackConnection sc)
    {
        var state = sc.Connection.TimeWait!;
        Remove(sc);
        _timeWait.Add(state);
    }

    private void Remove(StackConnection sc)
    {
        _wheel.Cancel(sc);
        sc.Detached = true;
        if (sc.Listener is { } born)
        {
            born.Live--;
            sc.Listener = null;
        }
        if (sc.Connection.AccountedBufferBytes != 0) AccountBuffers(-sc.Connection.AccountedBufferBytes);
        if (sc.Orphan)
        {
            sc.Orphan = false;
            _orphans--;
        }
        if (_connections.Remove(sc))
        {
            Shards?.Closed(sc.Connection.Tuple, this);
            Statistics.RetransmittedSegments += sc.Connection.RetransmittedSegments;
        }
    }

    internal void FireConnectionTimers(StackConnection sc, TimeSpan now)
    {
        sc.Connection.OnTimer(now);
        AfterInput(sc);
    }

    private void Arm(StackConnection e, TimeSpan deadline) =>
        _wheel.Arm(e, (long)Math.Ceiling(deadline.TotalMilliseconds));

    // ------------------------------------------------------------------ opens and closes (for the socket API)

    internal Listener Listen(IpAddr? address, ushort port, int backlog, ConnectionOptions? options)
    {
        if (address is IpAddr a && !_addresses.Contains(a)) throw new InvalidOperationException($"{a} is not an address of {Name}");
        if (_listeners.ContainsKey((address, port)) || (address is null && _listeners.Keys.Any(k => k.Port == port)) || _listeners.ContainsKey((null, port)))
        {
            throw new InvalidOperationException($"port {port} already has a listener");
        }
        var l = new Listener { Address = address, Port = port, Backlog = Math.Max(1, backlog), Options = options ?? Options.Connection, MaxConnections = Options.MaxConnectionsPerListener };
        _listeners[(address, port)] = l;
        return l;
    }

    /// <summary>The state of a tuple as the stack knows it: a live connection, a TIME-WAIT entry, or null (CLOSED).</summary>
    internal TcpState? LookupState(in FourTuple tuple) =>
        _connections.TryGet(tuple, out var sc) ? sc.Connection.State
        : _timeWait.Contains(tuple) ? TcpState.TimeWait
        : null;


    /// <summary>Forgets every TIME-WAIT entry at once, as <c>tcpdrop -s TIME_WAIT</c> does.</summary>
    public int DropTimeWait()
    {
        var all = _timeWait.Entries().ToList();
        foreach (var (tuple, _) in all) _timeWait.Remove(tuple);
        return all.Count;
    }

    private readonly Dictionary<ushort, (byte Dscp, byte HopLimit)> _bound = new();

    /// <summary>A socket bound to <paramref name="port"/> without listening: RSTs for the port carry its IP fields.</summary>
    internal void Bind(ushort port, byte dscp, byte hopLimit) => _bound[port] = (dscp, hopLimit);

    internal void Unbind(ushort port) => _bound.Remove(port);

    internal bool IsListening(ushort port) => _listeners.Keys.Any(k => k.Port == port);

    internal void StopListening(Listener l)
    {
        l.Closed = true;
        _listeners.Remove((l.Address, l.Port));
        // Connections nobody will accept are reset, as a closed listening socket does.
        while (l.AcceptQueue.TryDequeue(out var sc)) Abort(sc);
        Observer?.InputDone(this, _now);
    }

    internal StackConnection Connect(IpAddr remote, ushort remotePort, IpAddr? local, ushort localPort, ConnectionOptions? options, IConnectionObserver? observer)
    {
        var localAddress = local ?? PickLocalAddress(remote);
        if (localPort == 0)
        {
            localPort = _ports.Choose(localAddress, remote, remotePort,
                p => _connections.Contains(new FourTuple(localAddress, p, remote, remotePort))
                     || _timeWait.Contains(new FourTuple(localAddress, p, remote, remotePort))
                     || IsListening(p)
                     || Shards is { } shards && shards.IsTaken(new FourTuple(localAddress, p, remote, remotePort)))
                ?? throw new InvalidOperationException("no ephemeral port free");
        }
        var tuple = new FourTuple(localAddress, localPort, remote, remotePort);
        if (_connections.Count >= Options.MaxConnections)
            throw new ConnectionLimitException($"{Name} holds {_connections.Count} connections, its limit (StackOptions.MaxConnections)");
        if (_connections.Contains(tuple) || _timeWait.Contains(tuple) || Shards is { } set && !set.TryOpen(tuple, this))
            throw new InvalidOperationException($"{tuple} is in use");
        var sc = NewConnection(tuple, options ?? Options.Connection);
        sc.Observer = observer;
        Statistics.ConnectionsOpened++;
        sc.Connection.OpenActive(_now);
        AfterInput(sc);
        Observer?.InputDone(this, _now);
        return sc;
    }

    private IpAddr PickLocalAddress(IpAddr remote)
    {
        foreach (var a in Options.Addresses)
        {
            if (a.IsV6 == remote.IsV6) return a;
        }
        throw new InvalidOperationException($"{Name} has no {(remote.IsV6 ? "IPv6" : "IPv4")} address");
    }

    /// <summary>Runs a user call on a connection and then the stack's bookkeeping.</summary>
    internal T Call<T>(StackConnection sc, Func<Connection, T> call)
    {
        var result = call(sc.Connection);
        AfterUserCall(sc);
        return result;
    }

    internal bool HasAddress(IpAddr address) => _addresses.Contains(address);

    internal void Abort(StackConnection sc)
    {
        sc.Connection.Abort(_now);
        AfterInput(sc);
        Observer?.InputDone(this, _now);
    }

    // ------------------------------------------------------------------ output and the connection host

    private void Send(in FourTuple tuple, in TcpHeader h, ReadOnlySpan<byte> payload, TcpOptionLayout layout, int segmentSize = 0)
    {
        // A TSO segment (up to 64 KB) is built where the device's write will take it from, behind the
        // device's own header, and handed over: copied once out of the send buffer, not again into the
        // device's queue. Anything else is lent for the call.
        var sink = Output as IBatchingPacketSink;
        var tso = segmentSize > 0 ? sink : null;
        int headroom = tso?.Headroom ?? 0;
        var buf = ArrayPool<byte>.Shared.Rent(headroom + TcpPacket.MaxLength(payload.Length));
        bool handedOver = false;
        try
        {
            int n = TcpPacket.Write(buf.AsSpan(headroom), tuple.LocalAddress, tuple.RemoteAddress, in h, layout, payload,
                partialChecksum: sink is { CompletesTcpChecksums: true });
            var packet = buf.AsSpan(headroom, n);
            Statistics.PacketsOut++;
            Observer?.PacketOut(this, packet, _now);
            if (tso is not null)
            {
                handedOver = true;
                tso.TransmitOwned(this, buf, n, segmentSize);
            }
            else
            {
                Output?.Transmit(this, packet);
            }
        }
        finally
        {
            if (!handedOver) ArrayPool<byte>.Shared.Return(buf);
        }
    }

    /// <summary>Where the buffers stand against the budget (<see cref="StackOptions.BufferMemoryLimit"/>).</summary>
    public MemoryPressure Pressure { get; private set; }

    MemoryPressure IConnectionHost.Pressure => Pressure;

    void IConnectionHost.BufferBytesChanged(Connection connection, int delta)
    {
        if (((StackConnection)connection.Tag!).Detached) return; // out of the table: accounted for when it left
        AccountBuffers(delta);
    }

    void IConnectionHost.MemoryRefused(Connection connection) => Statistics.MemoryRefusals++;

    void IConnectionHost.InputRefused(Connection connection, RefusedInput what, int count)
    {
        if (what == RefusedInput.OutOfOrderSegment) Statistics.OutOfOrderRefused += count;
        else Statistics.SackBlocksRefused += count;
    }

    private void AccountBuffers(long delta)
    {
        long bytes = Statistics.BufferBytes += delta;
        if (bytes > Statistics.BufferBytesPeak) Statistics.BufferBytesPeak = bytes;
        long limit = Options.BufferMemoryLimit;
        var level = bytes >= limit ? MemoryPressure.Exhausted : bytes >= limit - limit / 4 ? MemoryPressure.Pressure : MemoryPressure.None;
        if (level != MemoryPressure.None && Pressure == MemoryPressure.None)
        {
            Statistics.MemoryPressureEntered++;
            if (_log.IsEnabled(LogLevel.Warning)) StackLog.MemoryPressure(_log, Name, bytes, limit);
        }
        Pressure = level;
    }

    void IConnectionHost.Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        if (header.Flags.Has(TcpFlags.Rst)) Statistics.ResetsSent++;
        // Longer than the MSS: a TSO segment the device cuts (or hands over whole).
        Send(connection.Tuple, in header, payload, layout, payload.Length > connection.SendMss ? connection.SendMss : 0);
    }

    void IConnectionHost.StateChanged(Connection connection, TcpState from, TcpState to, string cause)
    {
        if (_log.IsEnabled(LogLevel.Debug))
        {
            var t = connection.Tuple;
            StackLog.StateChanged(_log, Name, FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), from.ToRfcName(), to.ToRfcName(), cause);
        }
        Observer?.StateChanged(this, connection.Tuple, from, to, cause, _now);
        ((StackConnection)connection.Tag!).Observer?.OnStateChanged(from, to, cause, _now);
    }

    void IConnectionHost.Notify(Connection connection, ConnectionEvent e, TcpError error)
    {
        if (e == ConnectionEvent.Failed && _log.IsEnabled(LogLevel.Information))
        {
            var t = connection.Tuple;
            StackLog.ConnectionFailed(_log, Name, FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), error);
        }
        ((StackConnection)connection.Tag!).Observer?.OnEvent(e, error);
    }

    void IConnectionHost.TimerFired(Connection connection, TcpTimer timer) =>
        Observer?.TimerFired(this, connection.Tuple, timer, _now);

    /// <summary>Releases the stack's meter.</summary>
    public void Dispose()
    {
        _metrics.Dispose();
        GC.SuppressFinalize(this);
    }

    // A stack nobody disposed still lets go of its meter, which is registered process-wide.
    /// <summary>Releases the stack's meter.</summary>
    ~NetworkStack() => _metrics.Dispose();

    // ------------------------------------------------------------------ inspection

    /// <summary>A snapshot like <c>ss -tan</c>: every connection, listener and TIME-WAIT entry.</summary>
    public IReadOnlyList<SocketSnapshot> Snapshot()
    {
        var list = new List<SocketSnapshot>();
        foreach (var l in _listeners.Values)
        {
            var local = l.Address is IpAddr a ? FourTuple.Format(a, l.Port) : $"*:{l.Port}";
            list.Add(new SocketSnapshot(TcpState.Listen, local, "*:*", l.AcceptQueue.Count, l.Backlog, [], null));
        }
        // The table's order follows a hash seeded per process; a snapshot lists by address and port, the same in every run.
        var connections = _connections.ToList();
        connections.Sort(static (a, b) => CompareTuples(a.Connection.Tuple, b.Connection.Tuple));
        foreach (var sc in connections)
        {
            var c = sc.Connection;
            var timers = new List<string>();
            foreach (var t in Enum.GetValues<TcpTimer>())
            {
                if (c.TimerDeadline(t) is TimeSpan d) timers.Add($"{t}:{(d - _now).TotalMilliseconds:F0}ms");
            }
            list.Add(new SocketSnapshot(c.State, FourTuple.Format(c.Tuple.LocalAddress, c.Tuple.LocalPort),
                FourTuple.Format(c.Tuple.RemoteAddress, c.Tuple.RemotePort), c.ReceiveQueued, c.SendQueued, timers, c.Tuple));
        }
        foreach (var (tuple, expires) in _timeWait.Entries())
        {
            list.Add(new SocketSnapshot(TcpState.TimeWait, FourTuple.Format(tuple.LocalAddress, tuple.LocalPort),
                FourTuple.Format(tuple.RemoteAddress, tuple.RemotePort), 0, 0, [$"TimeWait:{(expires - _now).TotalMilliseconds:F0}ms"], tuple));
        }
        return list;
    }

    private static int CompareTuples(in FourTuple a, in FourTuple b)
    {
        int c = a.LocalPort.CompareTo(b.LocalPort);
        if (c == 0) c = a.RemotePort.CompareTo(b.RemotePort);
        if (c == 0) c = string.CompareOrdinal(a.LocalAddress.ToString(), b.LocalAddress.ToString());
        if (c == 0) c = string.CompareOrdinal(a.RemoteAddress.ToString(), b.RemoteAddress.ToString());
        return c;
    }
}
