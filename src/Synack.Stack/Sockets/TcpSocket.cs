using System.Net.Sockets;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// A non-blocking TCP socket of a <see cref="NetworkStack"/>, with BSD's semantics: bind, listen,
/// accept, connect, receive, send, shutdown, close with linger, a pending error (SO_ERROR) and
/// readiness (<see cref="Readiness"/>, <see cref="WaitAsync"/>). No call blocks: one that cannot
/// complete says <see cref="SocketError.WouldBlock"/> (or <see cref="SocketError.InProgress"/> for a
/// connect). Like the stack it belongs to, it is single-threaded: call it on the stack's loop (code
/// run by a simulation's loop, or inside <see cref="IStackLoop.Invoke(Action)"/>).
/// <see cref="TcpConnection"/> and <see cref="TcpListener"/> are the async wrappers over it.
/// </summary>
public sealed class TcpSocket : IConnectionObserver
{
    private readonly NetworkStack _stack;
    // Made on the first wait: most sockets of a busy server are never waited on, and an empty list is 32 bytes.
    // One wait in a field (an idle connection's read), more in a list made when a second waits at once.
    private SocketWait? _wait;
    private List<SocketWait>? _waiters;
    private StackConnection? _connection;
    private Listener? _listener;
    private ushort? _boundPort;
    // What few sockets set (a bound address, SO_LINGER) lives in an object of its own, made when set:
    // each socket of a server holding a million would otherwise carry 32 bytes for it.
    private RareSettings? _rare;
    private SocketError _pendingError;
    private bool _failed;
    private bool _closed;
    private FileSend? _fileSend;

    private TcpSocket(NetworkStack stack, ConnectionOptions options)
    {
        _stack = stack;
        _options = options;
    }

    /// <summary>A new, unbound socket; <paramref name="options"/> default to the stack's.</summary>
    public static TcpSocket Create(NetworkStack stack, ConnectionOptions? options = null) => new(stack, options ?? stack.Options.Connection);

    /// <summary>The stack the socket belongs to.</summary>
    public NetworkStack Stack => _stack;
    /// <summary>
    /// The options of the connection this socket will open (fixed once it does); on a listener, those of
    /// the connections it accepts from then on, as a listening socket's options pass to its children.
    /// </summary>
    public ConnectionOptions Options
    {
        get => _options;
        set
        {
            _options = value;
            if (_listener is { } l) l.Options = value;
        }
    }

    private ConnectionOptions _options;
    /// <summary>SO_LINGER: with zero, <see cref="Close"/> resets the connection instead of closing it.</summary>
    public TimeSpan? Linger
    {
        get => _rare?.Linger;
        set
        {
            if (value is null && _rare is null) return;
            (_rare ??= new RareSettings()).Linger = value;
        }
    }

    private IpAddr? BoundAddress => _rare?.BoundAddress;
    /// <summary>True after <c>Listen</c>.</summary>
    public bool IsListening => _listener is not null;
    /// <summary>The local port, once bound (explicitly or by connect).</summary>
    public ushort? BoundPort => _boundPort;
    /// <summary>The connection's 4-tuple, once there is one.</summary>
    public FourTuple? Tuple => _connection?.Connection.Tuple;
    /// <summary>The connection's TCB (sequence numbers, options, timers), once there is one.</summary>
    public Connection? Protocol => _connection?.Connection;
    /// <summary>The connection is still in the stack's table: not closed, not handed over to TIME-WAIT.</summary>
    public bool IsOpen => _connection is { Detached: false };
    /// <summary>The connection has failed (reset, timed out, refused): reads see end of stream once the error is taken.</summary>
    public bool Failed => _failed;

    /// <summary>
    /// The TCP state behind the socket as a kernel reports it: a connection the stack has let go of is
    /// CLOSED unless it lives on as a TIME-WAIT entry; a listener is LISTEN.
    /// </summary>
    public TcpState State
    {
        get
        {
            if (_connection is not { } sc) return _listener is not null ? TcpState.Listen : TcpState.Closed;
            if (!sc.Detached) return sc.Connection.State;
            return _stack.LookupState(sc.Connection.Tuple) == TcpState.TimeWait ? TcpState.TimeWait : TcpState.Closed;
        }
    }

    /// <summary>IP_TOS / IPV6_TCLASS as a DSCP: the next packet carries a change, also on an open connection.</summary>
    public byte Dscp
    {
        get => Options.Dscp;
        set => SetIpFields(Options with { Dscp = value });
    }

    /// <summary>IP_TTL / IPV6_UNICAST_HOPS (0: the default, 64); like <see cref="Dscp"/>, it may change at any time.</summary>
    public byte HopLimit
    {
        get => Options.HopLimit;
        set => SetIpFields(Options with { HopLimit = value });
    }

    private void SetIpFields(ConnectionOptions options)
    {
        Options = options;
        if (_connection is { } sc)
        {
            sc.Connection.Dscp = options.Dscp;
            sc.Connection.HopLimit = options.HopLimit;
        }
        else if (_boundPort is ushort port) _stack.Bind(port, options.Dscp, options.HopLimit);
    }

    // ------------------------------------------------------------------ opens

    /// <summary>
    /// Binds a local port (and maybe address). A socket bound without listening gives its IP fields to
    /// the RSTs for its port, as BSD's inpcb does.
    /// </summary>
    public SocketError Bind(ushort port, IpAddr? address = null)
    {
        if (_closed) return SocketError.OperationAborted;
        if (_boundPort is not null || _connection is not null || _listener is not null) return SocketError.InvalidArgument;
        if (address is IpAddr a && !_stack.HasAddress(a)) return SocketError.AddressNotAvailable;
        _boundPort = port;
        if (address is not null) (_rare ??= new RareSettings()).BoundAddress = address;
        _stack.Bind(port, Options.Dscp, Options.HopLimit);
        return SocketError.Success;
    }

    /// <summary>Listens on the bound port; <paramref name="backlog"/> bounds the SYN queue and the accept queue, each on its own (as Linux does).</summary>
    public SocketError Listen(int backlog)
    {
        if (_closed) return SocketError.OperationAborted;
        if (_connection is not null || _boundPort is not ushort port) return SocketError.InvalidArgument;
        if (_listener is not null)
        {
            _listener.Backlog = Math.Max(1, backlog); // listen() again changes the backlog, as on Linux
            return SocketError.Success;
        }
        try
        {
            _listener = _stack.Listen(BoundAddress, port, backlog, Options);
        }
        catch (InvalidOperationException)
        {
            return SocketError.AddressAlreadyInUse;
        }
        _listener.Ready = NotifyWaiters;
        return SocketError.Success;
    }

    /// <summary>The next established connection, or null with <paramref name="error"/> (WouldBlock when none is waiting).</summary>
    public TcpSocket? Accept(out SocketError error)
    {
        if (_listener is not { } l)
        {
            error = _closed ? SocketError.OperationAborted : SocketError.InvalidArgument;
            return null;
        }
        if (!l.AcceptQueue.TryDequeue(out var sc))
        {
            error = l.Closed ? SocketError.OperationAborted : SocketError.WouldBlock;
            return null;
        }
        error = SocketError.Success;
        var accepted = new TcpSocket(_stack, sc.Connection.Options) { _connection = sc };
        sc.Observer = accepted;
        // Reset while it waited in the queue: accept() still returns it, and its first call reports why.
        if (sc.Connection.State == TcpState.Closed && sc.Connection.Error != TcpError.None) accepted.RecordFailure(sc.Connection.Error);
        return accepted;
    }

    /// <summary>
    /// Active open. The first call starts the handshake and says <see cref="SocketError.InProgress"/>;
    /// later calls say how it went, as BSD's do: AlreadyInProgress while it runs, IsConnected once up,
    /// or the error it failed with (once).
    /// </summary>
    public SocketError Connect(IpAddr address, ushort port)
    {
        if (_closed) return SocketError.OperationAborted;
        if (_listener is not null) return SocketError.InvalidArgument;
        if (_connection is { } existing)
        {
            if (_failed) return TakeError() is var e && e != SocketError.Success ? e : SocketError.InvalidArgument;
            return existing.Connection.State is TcpState.SynSent or TcpState.SynReceived ? SocketError.AlreadyInProgress : SocketError.IsConnected;
        }
        try
        {
            _connection = _stack.Connect(address, port, BoundAddress, _boundPort ?? 0, Options, this);
        }
        catch (ConnectionLimitException)
        {
            return SocketError.TooManyOpenSockets;
        }
        catch (InvalidOperationException)
        {
            return SocketError.AddressAlreadyInUse;
        }
        TellStateChanges(); // the SYN went out while the stack was still making the connection: tell it now
        return _connection.Connection.State == TcpState.Established ? SocketError.Success : SocketError.InProgress;
    }

    // ------------------------------------------------------------------ data

    /// <summary>
    /// Reads what has arrived in order. 0 with Success is end of stream; a pending error comes first
    /// (once), then a failed connection reads as end of stream.
    /// </summary>
    public int Receive(Span<byte> buffer, out SocketError error, bool peek = false)
    {
        if (_closed)
        {
            error = SocketError.OperationAborted;
            return 0;
        }
        if (_connection is not { } sc)
        {
            error = SocketError.NotConnected;
            return 0;
        }
        var c = sc.Connection;
        if (_pendingError != SocketError.Success && c.ReceiveQueued == 0)
        {
            error = TakeError();
            return 0;
        }
        error = SocketError.Success;
        if (c.State is TcpState.SynSent or TcpState.SynReceived)
        {
            error = SocketError.WouldBlock;
            return 0;
        }
        if (peek)
        {
            int p = c.Peek(buffer);
            if (p == 0 && !c.PeerFinished && !_failed && c.State != TcpState.Closed) error = SocketError.WouldBlock;
            return p;
        }
        int n = c.Receive(buffer, _stack.Now, out var tcpError);
        _stack.AfterUserCall(sc);
        if (n == 0 && tcpError == TcpError.WouldBlock) error = SocketError.WouldBlock;
        return n;
    }

    /// <summary>Queues what fits of <paramref name="data"/>; WouldBlock when nothing does. Shutdown (EPIPE) once the connection can no longer send.</summary>
    /// <param name="more">MSG_MORE: more follows at once, so a partial segment waits for it.</param>
    /// <param name="endOfRecord">MSG_EOR: these bytes end a record, and the next start a segment of their own.</param>
    public int Send(ReadOnlySpan<byte> data, out SocketError error, bool more = false, bool endOfRecord = false)
    {
        if (_closed)
        {
            error = SocketError.OperationAborted;
            return 0;
        }
        if (_connection is not { } sc)
        {
            error = SocketError.NotConnected;
            return 0;
        }
        if (_pendingError != SocketError.Success)
        {
            error = TakeError();
            return 0;
        }
        if (_failed || sc.Detached)
        {
            error = SocketError.Shutdown;
            return 0;
        }
        if (sc.Connection.State is TcpState.SynSent or TcpState.SynReceived || _fileSend is not null)
        {
            error = SocketError.WouldBlock; // a file being sent goes first: its bytes must not interleave with these
            return 0;
        }
        var c = sc.Connection;
        int n = c.Send(data, _stack.Now, out var tcpError, more, endOfRecord);
        _stack.AfterUserCall(sc);
        error = n > 0 ? SocketError.Success : tcpError switch
        {
            TcpError.None => SocketError.Success,
            TcpError.WouldBlock => SocketError.WouldBlock,
            TcpError.ConnectionClosing => SocketError.Shutdown,
            _ => ToSocketError(tcpError),
        };
        return n;
    }

    /// <summary>
    /// sendfile(): queues <paramref name="count"/> bytes of <paramref name="file"/> from
    /// <paramref name="offset"/>, read straight into the send buffer as it frees up (under the stack's
    /// lock, on the thread that brings each acknowledgment: a file not in the page cache stalls the
    /// stack while it is read, as the kernel's sendfile stalls its caller). The task completes when the
    /// last byte is queued, and fails with the socket's error if the connection fails first or with the
    /// read's if the file does. One at a time; other sends wait until it is done.
    /// </summary>
    public Task SendFile(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var refused = _closed ? SocketError.OperationAborted
            : _connection is not { } sc ? SocketError.NotConnected
            : _pendingError != SocketError.Success ? TakeError()
            : _failed || sc.Detached || sc.Connection.SendClosed ? SocketError.Shutdown
            : _fileSend is not null ? SocketError.AlreadyInProgress
            : SocketError.Success;
        if (refused != SocketError.Success) return Task.FromException(new SocketException((int)refused));
        if (count == 0) return Task.CompletedTask;
        var send = _fileSend = new FileSend(file, offset, count);
        PumpFile();
        return send.Done.Task;
    }

    /// <summary>Stops a <see cref="SendFile"/> (what is queued stays queued); its task is cancelled.</summary>
    internal void CancelFileSend(Task which)
    {
        if (_fileSend is { } f && f.Done.Task == which)
        {
            _fileSend = null;
            f.Done.TrySetCanceled();
        }
    }

    /// <summary>Tops the send buffer up from the file being sent, if any (the stack's input settled, or the send began).</summary>
    private void PumpFile()
    {
        if (_fileSend is not { } f || f.Pumping || _connection is not { } sc) return;
        if (_failed || _closed || sc.Detached)
        {
            _fileSend = null;
            f.Done.TrySetException(new SocketException((int)(_closed ? SocketError.OperationAborted : _pendingError != SocketError.Success ? _pendingError : SocketError.Shutdown)));
            return;
        }
        var c = sc.Connection;
        if (c.State is TcpState.SynSent or TcpState.SynReceived || c.SendSpace == 0) return;
        f.Pumping = true;
        var error = TcpError.None;
        Exception? failure = null;
        try
        {
            c.SendFrom(f, f.Remaining, _stack.Now, out error);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            failure = ex;
        }
        finally
        {
            _stack.AfterUserCall(sc); // timers and observers see what was queued; Settled comes back here and finds us pumping
            f.Pumping = false;
        }
        if (failure is null && error is not (TcpError.None or TcpError.WouldBlock)) failure = new SocketException((int)ToSocketError(error));
        if (failure is not null)
        {
            _fileSend = null;
            f.Done.TrySetException(failure);
        }
        else if (f.Remaining == 0)
        {
            _fileSend = null;
            StackCalls.Wake(this, f.Done);
            NotifyWaiters(); // writes that waited behind the file
        }
    }

    /// <summary>TCP_NODELAY on an open connection (before it opens, <see cref="Options"/>' Nagle says).</summary>
    public void SetNoDelay(bool on)
    {
        Options = Options with { Nagle = !on };
        if (_connection is { Detached: false } sc) _stack.Call(sc, c => { c.SetNoDelay(on, _stack.Now); return TcpError.None; });
    }

    /// <summary>
    /// SO_KEEPALIVE on an open connection as Linux applies it (the timer armed a whole idle time from
    /// now); before it opens, <see cref="Options"/>' KeepAlive says.
    /// </summary>
    public void SetKeepAlive(bool on)
    {
        Options = Options with { KeepAlive = on };
        if (_connection is { Detached: false } sc) _stack.Call(sc, c => { c.SetKeepAlive(on, _stack.Now); return TcpError.None; });
    }

    /// <summary>
    /// TCP_KEEPIDLE, TCP_KEEPINTVL, TCP_KEEPCNT (null leaves one as it is); on an open connection a new
    /// idle time counts from the last segment heard, as Linux's does.
    /// </summary>
    public void SetKeepAliveTimes(TimeSpan? idle = null, TimeSpan? interval = null, int? count = null)
    {
        if (idle <= TimeSpan.Zero || interval <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(idle <= TimeSpan.Zero ? nameof(idle) : nameof(interval), "keep-alive times are positive");
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "at least one probe");
        Options = Options with { KeepAliveIdle = idle ?? Options.KeepAliveIdle, KeepAliveInterval = interval ?? Options.KeepAliveInterval, KeepAliveCount = count ?? Options.KeepAliveCount };
        if (_connection is { Detached: false } sc) _stack.Call(sc, c => { c.SetKeepAliveTimes(idle, interval, count, _stack.Now); return TcpError.None; });
    }

    /// <summary>TCP_CORK: only full segments go until it is lifted.</summary>
    public SocketError SetCork(bool on)
    {
        if (_connection is not { Detached: false } sc) return SocketError.NotConnected;
        _stack.Call(sc, c => { c.SetCork(on, _stack.Now); return TcpError.None; });
        return SocketError.Success;
    }

    /// <summary>SO_SNDBUF: before the connection opens it sizes the buffer; after, it resizes it (never below what is queued).</summary>
    public SocketError SetSendBufferSize(int bytes)
    {
        if (bytes <= 0) return SocketError.InvalidArgument;
        Options = Options with { SendBufferSize = bytes, SendBufferMax = null }; // the application's size: no autotuning
        if (_connection is { Detached: false } sc && _stack.Call(sc, c => c.TrySetSendBufferSize(bytes) ? TcpError.None : TcpError.InvalidState) != TcpError.None)
            return SocketError.NoBufferSpaceAvailable;
        return SocketError.Success;
    }

    /// <summary>
    /// TCP_NOTSENT_LOWAT: writes queue more only while fewer than <paramref name="bytes"/> wait unsent,
    /// and the socket is writable only then (0 returns to the options' value, as on Linux).
    /// </summary>
    public SocketError SetNotSentLowWater(int bytes)
    {
        if (bytes < 0) return SocketError.InvalidArgument;
        Options = Options with { NotSentLowWater = bytes > 0 ? bytes : _stack.Options.Connection.NotSentLowWater };
        if (_connection is { Detached: false } sc) _stack.Call(sc, c => { c.NotSentLowWater = bytes; return TcpError.None; });
        return SocketError.Success;
    }

    // ------------------------------------------------------------------ closes

    /// <summary>Half-close (SHUT_WR): a FIN after the queued data; reading goes on until the peer closes.</summary>
    public SocketError Shutdown()
    {
        if (_connection is not { } sc || sc.Detached) return SocketError.NotConnected;
        var err = _stack.Call(sc, c => c.Shutdown(_stack.Now));
        return err is TcpError.None or TcpError.ConnectionClosing ? SocketError.Success : ToSocketError(err);
    }

    /// <summary>
    /// Shutdown of the receive side (SHUT_RD): reading ends; on the Linux profiles, data that arrives once
    /// this side's FIN is out resets the connection (<see cref="ConnectionOptions.ResetDataAfterReceiveShutdown"/>).
    /// </summary>
    public SocketError ShutdownReceive()
    {
        if (_connection is not { } sc || sc.Detached) return SocketError.NotConnected;
        _stack.Call(sc, c => { c.ShutdownReceive(); return TcpError.None; });
        return SocketError.Success;
    }

    /// <summary>
    /// close(): the application lets go. A listener stops (connections not yet accepted are reset); a
    /// connection closes gracefully — or resets, with unread data or a zero <see cref="Linger"/>.
    /// </summary>
    public void Close()
    {
        if (_closed) return;
        _closed = true;
        if (_boundPort is ushort port && _connection is null) _stack.Unbind(port);
        if (_listener is { } l)
        {
            _stack.StopListening(l);
            NotifyWaiters();
        }
        if (_connection is { } sc && !sc.Detached)
        {
            if (Linger is TimeSpan t && t <= TimeSpan.Zero) _stack.Abort(sc);
            else
            {
                _stack.Call(sc, c => c.Close(_stack.Now));
                _stack.Orphaned(sc);
            }
        }
        WakeAbandonedWaiters();
        if (_fileSend is { } f)
        {
            _fileSend = null;
            f.Done.TrySetException(new SocketException((int)SocketError.OperationAborted));
        }
    }

    /// <summary>
    /// Reads and writes still waiting when the application closes the socket end, as pending
    /// operations on a disposed .NET Socket do (OperationAborted): HttpClient, for one, cancels a
    /// request by disposing its stream and counts on the read it left pending to return.
    /// Waits for the close itself go on.
    /// </summary>
    private void WakeAbandonedWaiters()
    {
        if (_wait is { } first && (first.Mask & SocketReadiness.Closed) == 0)
        {
            _wait = null;
            first.Wake(this);
        }
        if (_waiters is null) return;
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var wait = _waiters[i];
            if ((wait.Mask & SocketReadiness.Closed) != 0) continue;
            _waiters.RemoveAt(i);
            wait.Wake(this);
        }
    }

    /// <summary>Sends RST (where the peer has a connection) and forgets the connection.</summary>
    public void Abort()
    {
        if (_connection is { } sc && !sc.Detached) _stack.Abort(sc);
        else if (_listener is not null) Close();
    }

    // ------------------------------------------------------------------ errors and readiness

    /// <summary>SO_ERROR: the pending error, cleared by reading it.</summary>
    public SocketError TakeError()
    {
        var e = _pendingError;
        _pendingError = SocketError.Success;
        return e;
    }

    /// <summary>
    /// TCP_INFO for this socket in whatever state it is: its connection's; a listener's as Linux fills it
    /// (<see cref="TcpInfo.Unacked"/> the connections waiting to be accepted, <see cref="TcpInfo.Sacked"/>
    /// the backlog); CLOSED for a socket with neither.
    /// </summary>
    public TcpInfo GetInfo()
    {
        if (_connection is { } sc) return sc.Connection.GetInfo(_stack.Now);
        if (_listener is { } l) return new TcpInfo { State = TcpState.Listen, Unacked = l.AcceptQueue.Count, Sacked = l.Backlog };
        return new TcpInfo { State = TcpState.Closed };
    }

    /// <summary>What the socket is ready for now, as <c>poll</c> would report it.</summary>
    public SocketReadiness Readiness
    {
        get
        {
            var r = SocketReadiness.None;
            if (_pendingError != SocketError.Success) r |= SocketReadiness.Error | SocketReadiness.Readable | SocketReadiness.Writable;
            if (_listener is { } l)
            {
                if (l.AcceptQueue.Count > 0 || l.Closed) r |= SocketReadiness.Readable;
                return r;
            }
            if (_connection is not { } sc) return r | (_closed ? SocketReadiness.Closed : 0);
            var c = sc.Connection;
            bool gone = sc.Detached || c.State == TcpState.Closed;
            if (c.ReceiveQueued > 0 || c.PeerFinished || gone || _failed) r |= SocketReadiness.Readable;
            // Writable as Linux's tcp_poll judges it (__sk_stream_is_writeable): free space at least half of
            // what is queued, so a blocked writer wakes to write a good part of the buffer, not a segment's
            // worth after every ACK (a profile of a TUN download found a wake-up and a small write per ACK).
            if (gone || _failed || (c.State is TcpState.Established or TcpState.CloseWait && !c.SendClosed && c.WriteSpaceAvailable && _fileSend is null)) r |= SocketReadiness.Writable;
            bool finAcked = c.SendClosed && c.SndUna == c.SndMax && c.State is not (TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck);
            if (gone || finAcked) r |= SocketReadiness.Closed;
            return r;
        }
    }

    /// <summary>Completes when the socket is ready for any of <paramref name="any"/> (at once if it already is).</summary>
    public Task WaitAsync(SocketReadiness any, CancellationToken cancellationToken = default)
    {
        if ((Readiness & any) != 0) return Task.CompletedTask;
        var wait = new TaskSocketWait { Mask = any };
        Hold(wait);
        if (cancellationToken.CanBeCanceled)
        {
            // Undone when the wait ends, so a long-lived token does not collect a registration per wait.
            var registration = cancellationToken.UnsafeRegister(static (s, t) => ((TaskCompletionSource)s!).TrySetCanceled(t), wait.Done);
            wait.Done.Task.ContinueWith(static (_, r) => ((CancellationTokenRegistration)r!).Dispose(), registration, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }
        return wait.Done.Task;
    }

    /// <summary>
    /// <see cref="WaitAsync"/> on a wait the caller reuses (a connection's reads, say): nothing is
    /// allocated per wait. False when the socket is ready already (nothing to wait for).
    /// </summary>
    internal bool WaitReusable(ReusableSocketWait wait, SocketReadiness any, CancellationToken cancellationToken)
    {
        if ((Readiness & any) != 0) return false;
        wait.Start(any, cancellationToken);
        Hold(wait);
        return true;
    }

    private void Hold(SocketWait wait)
    {
        // Cancelled ones go now, so waiting again and again stays bounded; a reused wait is held once.
        if (_wait is { } first && (first.IsDone || ReferenceEquals(first, wait))) _wait = null;
        if (_waiters is { } more)
        {
            for (int i = more.Count - 1; i >= 0; i--)
            {
                var w = more[i];
                if (w.IsDone || ReferenceEquals(w, wait)) more.RemoveAt(i);
            }
        }
        if (_wait is null) _wait = wait;
        else (_waiters ??= []).Add(wait);
    }

    /// <summary>Waits held (bounded: cancelled ones are dropped at the next wait).</summary>
    internal int Waiters => (_wait is null ? 0 : 1) + (_waiters?.Count ?? 0);

    private void NotifyWaiters()
    {
        if (_wait is null && (_waiters is null || _waiters.Count == 0)) return;
        var ready = Readiness;
        if (_wait is { } first && ((first.Mask & ready) != 0 || first.IsDone))
        {
            _wait = null;
            first.Wake(this);
        }
        if (_waiters is null) return;
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var wait = _waiters[i];
            if ((wait.Mask & ready) == 0 && !wait.IsDone) continue;
            _waiters.RemoveAt(i);
            wait.Wake(this);
        }
    }

    private void RecordFailure(TcpError error)
    {
        _failed = true;
        _pendingError = ToSocketError(error);
    }

    void IConnectionObserver.OnEvent(ConnectionEvent e, TcpError error)
    {
        if (e == ConnectionEvent.Failed) RecordFailure(error);
    }

    /// <summary>
    /// Each state change of this socket's connection, told after the input that caused it is processed
    /// (so a handler may call the socket), on the stack's loop. The last one it tells is the move into
    /// TIME-WAIT or CLOSED: a connection in TIME-WAIT is the stack's table's, no longer the socket's.
    /// </summary>
    public event EventHandler<TcpStateChange>? StateChanged
    {
        add => (_rare ??= new RareSettings()).StateChanged += value;
        remove
        {
            if (_rare is { } rare) rare.StateChanged -= value;
        }
    }

    void IConnectionObserver.OnStateChanged(TcpState from, TcpState to, string cause, TimeSpan now)
    {
        // Recorded only: the connection is in the middle of an input and must not be called back.
        if (_rare is { StateChanged: not null } rare) (rare.Changes ??= []).Add(new TcpStateChange(from, to, cause, now));
    }

    void IConnectionObserver.Settled()
    {
        PumpFile();
        NotifyWaiters();
        // Inside Connect the socket does not hold its connection yet: Connect tells what happened once it does.
        if (_connection is not null) TellStateChanges();
    }

    private void TellStateChanges()
    {
        if (_rare is not { Changes: { Count: > 0 } changes } rare) return;
        var told = changes.ToArray();
        changes.Clear();
        foreach (var change in told) rare.StateChanged?.Invoke(this, change);
    }

    /// <summary>.NET's <see cref="SocketError"/> for the stack's <see cref="TcpError"/>.</summary>
    public static SocketError ToSocketError(TcpError error) => error switch
    {
        TcpError.None => SocketError.Success,
        TcpError.ConnectionRefused => SocketError.ConnectionRefused,
        TcpError.ConnectionReset => SocketError.ConnectionReset,
        TcpError.TimedOut => SocketError.TimedOut,
        TcpError.Aborted => SocketError.OperationAborted,
        TcpError.ConnectionClosing => SocketError.Shutdown,
        TcpError.ConnectionDoesNotExist => SocketError.NotConnected,
        TcpError.ConnectionAlreadyExists => SocketError.IsConnected,
        TcpError.WouldBlock => SocketError.WouldBlock,
        TcpError.HostUnreachable => SocketError.HostUnreachable,
        _ => SocketError.InvalidArgument,
    };

    private sealed class RareSettings
    {
        public IpAddr? BoundAddress;
        public TimeSpan? Linger;
        public EventHandler<TcpStateChange>? StateChanged;
        public List<TcpStateChange>? Changes;
    }
}
