using System.Globalization;
using System.Net.Sockets;
using Synack.Stack;

namespace Synack.Conformance;

// The BSD socket layer: each system call of a script, with packetdrill's semantics.
internal sealed partial class ScriptRun
{
    // ------------------------------------------------------------------ system calls

    private void Call(ScriptEvent e, TimeSpan start, TimeSpan? end)
    {
        var call = ScriptSyscall.Parse(e.Text);
        if (_pending is not null) throw new ScriptFailure(e.Line, "a system call while another one is still blocked", e.Text);
        EnsureStack();
        var attempt = OnKernel ? KernelDispatch(e, call) : Dispatch(e, call);
        var (done, result, errno) = attempt();
        if (done)
        {
            Check(e, call, result, errno);
            return;
        }
        _pending = new PendingCall(e, call, start, end, attempt);
    }

    private void TryPending()
    {
        NoteWakeups();
        if (_pending is not { } p) return;
        var (done, result, errno) = p.Attempt();
        if (!done) return;
        _pending = null;
        var expectedEnd = p.End ?? p.Start;
        // On a live kernel the call's own thread says when it returned; on virtual time it is now.
        var returned = _returnedAt ?? _now;
        _returnedAt = null;
        if (returned > expectedEnd + _tolerance)
        {
            throw new ScriptFailure(p.Event.Line, $"the call returned at {Seconds(returned)}, expected by {Seconds(expectedEnd)}", p.Call.Text, $"returned {result}{(errno is null ? "" : " " + errno)}");
        }
        Check(p.Event, p.Call, result, errno);
    }

    private void Check(ScriptEvent e, ScriptSyscall call, long result, string? errno)
    {
        if (call.Open || _recording)
        {
            Record(e, call, result, errno);
            return;
        }
        string have = errno is null ? result.ToString(CultureInfo.InvariantCulture) : $"-1 {(errno == "EAGAIN" ? "EWOULDBLOCK" : errno)}";
        _observed.Add(new ScriptObservation(e.Line, $"{call.Name}() = {have}"));
        string want = call.Errno is null ? call.Result.ToString(CultureInfo.InvariantCulture) : $"-1 {call.Errno}";
        bool ok = call.Errno is null ? errno is null && result == call.Result : errno is not null && Errno.Same(errno, call.Errno);
        if (!ok) throw new ScriptFailure(e.Line, $"{call.Name}() returned {have}", want, have);
    }

    private static (bool, long, string?) Ok(long v) => (true, v, null);
    private static (bool, long, string?) Fail(string errno) => (true, -1, errno);
    private static readonly (bool, long, string?) Blocked = (false, 0, null);

    private Func<(bool Done, long Result, string? Errno)> Dispatch(ScriptEvent e, ScriptSyscall call)
    {
        var a = call.Args;
        switch (call.Name)
        {
            case "socket":
                {
                    int fd = NewFd(call);
                    _fds[fd] = new ScriptSocket(fd, TcpSocket.Create(_stack!, _options));
                    // tcpi_* look at the first socket until a connection is made (or it is closed).
                    if (_current is null || !_fds.ContainsValue(_current)) _current = _fds[fd];
                    return () => Ok(fd);
                }
            case "fcntl":
                return Fcntl(e, call);
            case "bind":
                {
                    var s = Socket(e, a);
                    return () =>
                    {
                        var error = s.Socket.Bind(ScriptLocalPort);
                        return error == SocketError.Success ? Ok(0) : Fail(Errno.From(error));
                    };
                }
            case "listen":
                {
                    var s = Socket(e, a);
                    int backlog = a.Count > 1 ? int.Parse(a[1], CultureInfo.InvariantCulture) : 1;
                    return () =>
                    {
                        var sock = s.Socket;
                        if (sock.Protocol is not null) return Fail("EINVAL");
                        if (sock.BoundPort is null) sock.Bind(ScriptLocalPort);
                        // The accept queue holds one more than the backlog on Linux (sk_acceptq_is_full is
                        // "more than"), 3/2 of it plus one on BSD; listen() again resizes it.
                        s.ListenBacklog = backlog;
                        var error = sock.Listen(LinuxSockets ? backlog + 1 : backlog * 3 / 2 + 1);
                        if (error != SocketError.Success) return Fail(Errno.From(error));
                        _localPort = sock.BoundPort!.Value;
                        _remotePort = ScriptRemotePort;
                        return Ok(0);
                    };
                }
            case "accept":
                {
                    var s = Socket(e, a);
                    return () =>
                    {
                        if (s.ListenStopped) return Fail("EINVAL"); // a CLOSE socket again, as if never listening
                        var accepted = s.Socket.Accept(out var error);
                        if (accepted is null) return error == SocketError.WouldBlock && !s.NonBlocking ? Blocked : Fail(Errno.From(error));
                        int fd = NewFd(call);
                        var ns = new ScriptSocket(fd, accepted) { ConnectReported = true }; // connected from the start: connect() says EISCONN
                        _fds[fd] = ns;
                        _current = ns;
                        return Ok(fd);
                    };
                }
            case "connect":
                return Connect(e, Socket(e, a));
            case "recvmsg":
                {
                    var s = Socket(e, a);
                    var msg = ScriptMessage.Parse(a[1]);
                    string flagArg = a.Count > 2 ? a[2] : "0";
                    bool peek = flagArg.Contains("MSG_PEEK", StringComparison.Ordinal);
                    bool dontWait = flagArg.Contains("MSG_DONTWAIT", StringComparison.Ordinal);
                    return () =>
                    {
                        var result = Read(s, msg.Length, peek, dontWait);
                        if (!result.Item1 || result.Item3 is not null) return result;
                        if (msg.Flags != "0") throw new UnsupportedScriptException($"recvmsg msg_flags {msg.Flags}");
                        if (msg.Inq is int want)
                        {
                            // TCP_CM_INQ: bytes left to read, and the FIN counted as one (Linux's tcp_inq_hint).
                            var c = s.Socket.Protocol;
                            int have = c is null ? 0 : c.ReceiveQueued + (c.PeerFinished ? 1 : 0);
                            if (!s.ReportInq) throw new ScriptFailure(e.Line, "a TCP_CM_INQ control message without TCP_INQ on", call.Text);
                            if (have != want) throw new ScriptFailure(e.Line, $"TCP_CM_INQ gave {have}", call.Text, $"cmsg_data={have}");
                        }
                        return result;
                    };
                }
            case "sendmsg":
                {
                    var s = Socket(e, a);
                    var msg = ScriptMessage.Parse(a[1]);
                    if (msg.Inq is not null) throw new UnsupportedScriptException("sendmsg with TCP_CM_INQ");
                    string flagArg = a.Count > 2 ? a[2] : "0";
                    bool dontWait = flagArg.Contains("MSG_DONTWAIT", StringComparison.Ordinal);
                    bool more = flagArg.Contains("MSG_MORE", StringComparison.Ordinal);
                    bool eor = flagArg.Contains("MSG_EOR", StringComparison.Ordinal);
                    if (flagArg.Contains("MSG_ZEROCOPY", StringComparison.Ordinal)) throw new UnsupportedScriptException($"sendmsg flags {flagArg}");
                    return () => Write(s, msg.Length, dontWait, more, eor);
                }
            case "poll":
                return Poll(e, call);
            case "epoll_create" or "epoll_create1":
                return SynackEpollCreate(call);
            case "epoll_ctl":
                return SynackEpollCtl(e, call);
            case "epoll_wait":
                return SynackEpollWait(e, call);
            case "read" or "recv" or "recvfrom" or "write" or "send" or "sendto" when a.Count > 1 && a[1] == "NULL":
                {
                    Socket(e, a);
                    return () => Fail("EFAULT"); // a null buffer: the kernel's copy faults before anything is queued
                }
            case "ioctl":
                {
                    var s = Socket(e, a);
                    return ReadableBytes(e, call, () => (s.Socket.Protocol?.ReceiveQueued ?? 0, null)); // the FIN is not a byte
                }
            case "read" or "recv" or "recvfrom":
                {
                    var s = Socket(e, a);
                    int len = a.Count > 2 ? int.Parse(a[2], CultureInfo.InvariantCulture) : 0;
                    bool peek = a.Count > 3 && a[3].Contains("MSG_PEEK", StringComparison.Ordinal);
                    bool dontWait = a.Count > 3 && a[3].Contains("MSG_DONTWAIT", StringComparison.Ordinal);
                    return () => Read(s, len, peek, dontWait);
                }
            case "write" or "send" or "sendto":
                {
                    var s = Socket(e, a);
                    int len = a.Count > 2 ? int.Parse(a[2], CultureInfo.InvariantCulture) : 0;
                    bool dontWait = a.Count > 3 && a[3].Contains("MSG_DONTWAIT", StringComparison.Ordinal);
                    bool more = a.Count > 3 && a[3].Contains("MSG_MORE", StringComparison.Ordinal);
                    bool eor = a.Count > 3 && a[3].Contains("MSG_EOR", StringComparison.Ordinal);
                    int written = 0;
                    bool waiting = false;
                    return () =>
                    {
                        // A blocking write returns once all of it is queued; a non-blocking one with what fit.
                        // One that waits sleeps in sk_stream_wait_memory until a wake-up finds room: it
                        // does not top up its last chunk before then.
                        if (waiting && s.Socket.Protocol is { State: Synack.Tcp.TcpState.Established or Synack.Tcp.TcpState.CloseWait } open && !open.WriteSpaceAvailable) return Blocked;
                        var (done, n, errno) = Write(s, len - written, dontWait, more, eor);
                        waiting = true;
                        if (errno is not null) return written > 0 ? Ok(written) : (done, n, errno);
                        if (!done) return written > 0 && (s.NonBlocking || dontWait) ? Ok(written) : Blocked;
                        written += (int)n;
                        if (written < len && !s.NonBlocking && !dontWait) return Blocked;
                        return Ok(written);
                    };
                }
            case "shutdown":
                {
                    var s = Socket(e, a);
                    string how = a.Count > 1 ? a[1] : "SHUT_RDWR";
                    return () =>
                    {
                        if (s.Socket.IsListening && LinuxSockets)
                        {
                            // Linux's inet_shutdown on a listener: SHUT_WR does nothing; SHUT_RD stops it listening
                            // (tcp_disconnect: the queued connections reset, new SYNs refused), and both succeed.
                            if (how is "SHUT_RD" or "SHUT_RDWR")
                            {
                                s.Socket.Close();
                                s.ListenStopped = true;
                            }
                            return Ok(0);
                        }
                        if (!s.Socket.IsOpen) return Fail("ENOTCONN");
                        if (how is "SHUT_RD" or "SHUT_RDWR")
                        {
                            s.ReadShutdown = true;
                            s.Socket.ShutdownReceive();
                        }
                        var error = how is "SHUT_WR" or "SHUT_RDWR" ? s.Socket.Shutdown() : SocketError.Success;
                        return error == SocketError.Success ? Ok(0) : Fail(Errno.From(error));
                    };
                }
            case "close" when a.Count > 0 && int.TryParse(a[0], NumberStyles.None, CultureInfo.InvariantCulture, out int efd) && _epolls.ContainsKey(efd):
                return () =>
                {
                    _epolls.Remove(efd);
                    return Ok(0);
                };
            case "close":
                {
                    var s = Socket(e, a);
                    return () =>
                    {
                        _fds.Remove(s.Fd);
                        foreach (var ep in _epolls.Values) ep.Remove(s.Fd); // a closed descriptor leaves every epoll set
                        s.Socket.Close();
                        return Ok(0);
                    };
                }
            case "getsockopt":
                return GetSockOpt(e, call);
            case "setsockopt":
                return SetSockOpt(e, call);
            default:
                throw new UnsupportedScriptException($"system call {call.Name}()");
        }
    }

    /// <summary>
    /// The descriptor a new socket gets: the one the script names (packetdrill maps the script's
    /// numbers onto the live ones, so a script may call its first socket 4), else the lowest free.
    /// </summary>
    private int NewFd(ScriptSyscall call)
    {
        // Sockets and epoll instances share the descriptor table.
        int fd = call.Result >= 0 && call.Errno is null ? (int)call.Result : 3;
        while (_fds.ContainsKey(fd) || _epolls.ContainsKey(fd)) fd = fd < 3 ? 3 : fd + 1;
        return fd;
    }

    private static int NewDescriptor<T>(ScriptSyscall call, Dictionary<int, T> open)
    {
        if (call.Result >= 0 && call.Errno is null && !open.ContainsKey((int)call.Result)) return (int)call.Result;
        int fd = 3;
        while (open.ContainsKey(fd)) fd++;
        return fd;
    }

    private ScriptSocket Socket(ScriptEvent e, IReadOnlyList<string> args) => Descriptor(e, args, _fds);

    /// <summary>The open descriptor the call's first argument names; a script failure (EBADF) otherwise.</summary>
    private static T Descriptor<T>(ScriptEvent e, IReadOnlyList<string> args, Dictionary<int, T> open)
    {
        if (args.Count == 0 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            throw new ScriptFailure(e.Line, "the first argument must be a file descriptor", e.Text);
        if (!open.TryGetValue(fd, out var s)) throw new ScriptFailure(e.Line, $"fd {fd} is not open", e.Text, "-1 EBADF");
        return s;
    }

    /// <summary>
    /// ioctl(SIOCINQ/FIONREAD, [N]): the bytes readable now, as <paramref name="read"/> gives them (or an
    /// errno), held to the N the script expects.
    /// </summary>
    private static Func<(bool, long, string?)> ReadableBytes(ScriptEvent e, ScriptSyscall call, Func<(int Bytes, string? Errno)> read)
    {
        var a = call.Args;
        string request = a.Count > 1 ? a[1] : "";
        if (request is not ("SIOCINQ" or "FIONREAD")) throw new UnsupportedScriptException($"ioctl {request}");
        string want = a.Count > 2 ? a[2].Trim('[', ']').Trim() : "";
        return () =>
        {
            var (bytes, errno) = read();
            if (errno is not null) return Fail(errno);
            string have = bytes.ToString(CultureInfo.InvariantCulture);
            if (have != want) throw new ScriptFailure(e.Line, $"ioctl {request} gave [{have}]", call.Text, $"[{have}]");
            return Ok(0);
        };
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\{\s*fd\s*=\s*(?<fd>[0-9]+)\s*,\s*events\s*=\s*(?<events>[A-Z|0-9]+)\s*(,\s*revents\s*=\s*(?<revents>[A-Z|0-9]+))?\s*\}")]
    private static partial System.Text.RegularExpressions.Regex PollEntry();

    /// <summary>
    /// poll() over the script's descriptors: POLLIN when there is something to read (or the peer
    /// closed), POLLOUT when a write would take data, POLLERR/POLLHUP always looked for. It waits
    /// until something is ready or its timeout passes.
    /// </summary>
    private Func<(bool, long, string?)> Poll(ScriptEvent e, ScriptSyscall call)
    {
        var entries = PollEntry().Matches(call.Args.Count > 0 ? call.Args[0] : "")
            .Select(m => (Fd: int.Parse(m.Groups["fd"].Value, CultureInfo.InvariantCulture), Events: m.Groups["events"].Value,
                Revents: m.Groups["revents"].Success ? m.Groups["revents"].Value : null))
            .ToList();
        if (entries.Count == 0) throw new ScriptFailure(e.Line, "poll() without {fd=…, events=…} entries", e.Text);
        int timeoutMs = call.Args.Count > 2 ? (int)ScriptSyscall.ParseNumber(call.Args[2]) : -1;
        var deadline = timeoutMs < 0 ? TimeSpan.MaxValue : _now + TimeSpan.FromMilliseconds(timeoutMs);
        return () =>
        {
            int ready = 0;
            var got = new List<string>();
            foreach (var (fd, events, _) in entries)
            {
                var names = Ready(fd, events);
                got.Add(names);
                if (names != "0") ready++;
            }
            if (ready == 0 && _now < deadline) return Blocked;
            for (int i = 0; i < entries.Count; i++)
            {
                if (entries[i].Revents is { } want && !SameEvents(want, got[i]))
                    throw new ScriptFailure(e.Line, $"poll() revents for fd {entries[i].Fd} were {got[i]}", call.Text, $"revents={got[i]}");
            }
            return Ok(ready);
        };
    }

    private string Ready(int fd, string asked)
    {
        if (!_fds.TryGetValue(fd, out var s)) return "POLLNVAL";
        var sock = s.Socket;
        var c = sock.Protocol;
        var ready = new List<string>();
        bool wantIn = asked.Contains("POLLIN", StringComparison.Ordinal), wantOut = asked.Contains("POLLOUT", StringComparison.Ordinal);
        bool failed = sock.Failed || c is { State: Synack.Tcp.TcpState.Closed, Error: not Synack.Tcp.TcpError.None };
        if (sock.IsListening)
        {
            if (wantIn && sock.Readiness.HasFlag(SocketReadiness.Readable)) ready.Add("POLLIN");
        }
        else if (c is not null)
        {
            bool readable = c.ReceiveQueued > 0 || c.PeerFinished || failed;
            if (wantIn && readable) ready.Add("POLLIN");
            // Linux's tcp_poll: writable while free space is at least half what is queued, and unsent bytes
            // under half TCP_NOTSENT_LOWAT; and, as BSD's sowriteable, always once nothing more can be sent
            // (SEND_SHUTDOWN, closed, an error), so a write fails at once. Not while opening, on Linux.
            bool established = c.State is Synack.Tcp.TcpState.Established or Synack.Tcp.TcpState.CloseWait;
            bool opening = c.State is Synack.Tcp.TcpState.SynSent or Synack.Tcp.TcpState.SynReceived;
            bool cannotSend = c.SendClosed || c.State == Synack.Tcp.TcpState.Closed || failed;
            bool writable = (!opening || failed && !LinuxSockets) && (cannotSend || established && c.WriteSpaceAvailable);
            if (wantOut && writable) ready.Add("POLLOUT");
            if (failed) ready.Add("POLLERR");
            if (c.State == Synack.Tcp.TcpState.Closed || c.PeerFinished && c.SendClosed) ready.Add("POLLHUP");
        }
        return ready.Count == 0 ? "0" : string.Join("|", ready);
    }

    private static bool SameEvents(string a, string b)
    {
        static HashSet<string> Set(string s) => [.. s.Split('|', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(x => x != "0")];
        return Set(a).SetEquals(Set(b));
    }

    private Func<(bool, long, string?)> Fcntl(ScriptEvent e, ScriptSyscall call)
    {
        var s = Socket(e, call.Args);
        string cmd = call.Args.Count > 1 ? call.Args[1] : "";
        return cmd switch
        {
            "F_GETFL" => () => Ok(0x02 | (s.NonBlocking ? 0x04 : 0)), // O_RDWR | O_NONBLOCK as FreeBSD numbers them
            "F_SETFL" => () =>
            {
                s.NonBlocking = call.Args.Count > 2 && call.Args[2].Contains("O_NONBLOCK", StringComparison.Ordinal);
                return Ok(0);
            }
            ,
            _ => throw new UnsupportedScriptException($"fcntl {cmd}"),
        };
    }

    private Func<(bool, long, string?)> Connect(ScriptEvent e, ScriptSocket s) => () =>
    {
        var sock = s.Socket;
        // Linux's inet_stream_connect: a socket whose state is not CLOSE (a listener) is "already connected".
        if (sock.IsListening && LinuxSockets) return Fail("EISCONN");
        if (sock.Protocol is not null)
        {
            // A second connect() reports how the first one went, as BSD does.
            var again = sock.Connect(_remote, _remotePort);
            switch (again)
            {
                case SocketError.AlreadyInProgress:
                    return s.NonBlocking ? Fail("EALREADY") : Blocked;
                case SocketError.IsConnected when !s.ConnectReported:
                    // The first connect() after a non-blocking one completed: BSD says EISCONN; Linux's
                    // socket is still SS_CONNECTING, so it finishes the connect and says 0 (then EISCONN).
                    s.ConnectReported = true;
                    return s.NonBlocking && !LinuxSockets ? Fail("EISCONN") : Ok(0);
                default:
                    return Fail(Errno.From(again));
            }
        }
        _remotePort = ScriptLocalPort; // the script's peer listens on 8080
        var error = sock.Connect(_remote, _remotePort);
        if (error != SocketError.InProgress) return Fail(Errno.From(error));
        _current = s;
        _localPort = sock.Tuple!.Value.LocalPort;
        return s.NonBlocking ? Fail("EINPROGRESS") : Blocked;
    };

    private (bool, long, string?) Read(ScriptSocket s, int len, bool peek, bool dontWait)
    {
        var buf = new byte[Math.Max(0, len)];
        int n = s.Socket.Receive(buf, out var error, peek);
        if (error == SocketError.WouldBlock && s.ReadShutdown) return Ok(0);
        return error switch
        {
            SocketError.Success => Ok(n),
            SocketError.WouldBlock => s.NonBlocking || dontWait ? Fail("EWOULDBLOCK") : Blocked,
            _ => Fail(Errno.From(error)),
        };
    }

    private (bool, long, string?) Write(ScriptSocket s, int len, bool dontWait, bool more = false, bool endOfRecord = false)
    {
        int n = s.Socket.Send(new byte[len], out var error, more, endOfRecord);
        if (n < len) s.NoSpace = true; // sk_stream_wait_memory's SOCK_NOSPACE: the next room made wakes the writer
        return error switch
        {
            SocketError.Success => Ok(n),
            SocketError.WouldBlock => s.NonBlocking || dontWait ? Fail("EWOULDBLOCK") : Blocked,
            // Linux's tcp_sendmsg on a socket that is neither connected nor connecting (never was, or
            // listening): sk_stream_wait_connect's EPIPE, where BSD's sosend says ENOTCONN.
            SocketError.NotConnected when LinuxSockets => Fail("EPIPE"),
            _ => Fail(Errno.From(error)),
        };
    }

    private Func<(bool, long, string?)> GetSockOpt(ScriptEvent e, ScriptSyscall call)
    {
        var s = Socket(e, call.Args);
        if (call.Args.Count < 4) throw new ScriptFailure(e.Line, "getsockopt needs a level, a name and a value", e.Text);
        string name = call.Args[2];
        string want = call.Args[3].Trim('[', ']').Trim();
        return () =>
        {
            var sock = s.Socket;
            var c = sock.Protocol;
            string have;
            switch (name)
            {
                case "SO_RCVBUF":
                    have = (c?.ReceiveBufferSize ?? sock.Options.ReceiveBufferSize).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_CONGESTION":
                    have = (c?.Options ?? sock.Options).CongestionControl == Synack.Tcp.CongestionControlAlgorithm.Cubic ? "\"cubic\"" : "\"reno\"";
                    if (want.Trim('"') == have.Trim('"')) have = want;
                    break;
                case "SO_SNDBUF":
                    // Linux reports sk_sndbuf as it stands: autotuned once connected, unless the script set it.
                    have = (c is { Options.SendBufferLikeLinux: true } && c.State != Synack.Tcp.TcpState.Closed ? c.SendBufferSize : s.SendBufferReported ?? sock.Options.SendBufferSize).ToString(CultureInfo.InvariantCulture);
                    break;
                case "SO_ERROR":
                    var pending = sock.TakeError();
                    have = pending == SocketError.Success ? "0" : Errno.From(pending);
                    break;
                case "TCP_NODELAY":
                    have = sock.Options.Nagle ? "0" : "1";
                    break;
                case "TCP_NOTSENT_LOWAT":
                    have = s.NotSentLowWater.ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_QUICKACK" when LinuxSockets:
                    have = c is null || c.QuickAck ? "1" : "0";
                    break;
                case "TCP_LINGER2" when LinuxSockets:
                    // The socket's own value, else the sysctl's (tcp_fin_timeout), in seconds; -1 for none.
                    have = (s.Linger2 < 0 ? -1 : s.Linger2 > 0 ? s.Linger2 : (long)_options.FinWait2Timeout.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_SYNCNT" when LinuxSockets:
                    have = (c?.Options ?? sock.Options).SynRetries.ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_MAXSEG":
                    // Before a connection has an MSS of its own both kernels answer the MSS the user set, else the
                    // default they start every socket with (Linux's mss_cache, TCP_MSS_DEFAULT; FreeBSD's
                    // tcp_mssdflt, tcp_v6mssdflt for IPv6).
                    bool own = c is { SendMss: > 0, State: not (Synack.Tcp.TcpState.Closed or Synack.Tcp.TcpState.Listen) };
                    have = (own ? c!.SendMss : s.UserMss ?? (_v6 && !LinuxSockets ? 1220 : 536)).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPIDLE":
                    have = ((int)sock.Options.KeepAliveIdle.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPINTVL":
                    have = ((int)sock.Options.KeepAliveInterval.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPCNT":
                    have = sock.Options.KeepAliveCount.ToString(CultureInfo.InvariantCulture);
                    break;
                case "SO_KEEPALIVE":
                    have = sock.Options.KeepAlive ? "1" : "0";
                    break;
                case "SO_REUSEADDR":
                    have = s.ReuseAddress ? "1" : "0";
                    break;
                case "TCP_KEEPINIT":
                    have = ((int)(sock.Options.ConnectionEstablishmentTimeout ?? TimeSpan.Zero).TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_NOOPT":
                    have = sock.Options.SendMssOption ? "0" : "1";
                    break;
                case "SO_ACCEPTCONN":
                    have = sock.IsListening ? "1" : "0";
                    break;
                case "SO_TYPE":
                    have = want == "SOCK_STREAM" ? "SOCK_STREAM" : "1";
                    break;
                default:
                    throw new UnsupportedScriptException($"getsockopt {name}");
            }
            if (have != want) throw new ScriptFailure(e.Line, $"getsockopt {name} gave [{have}]", call.Text, $"[{have}]");
            return Ok(0);
        };
    }

    private Func<(bool, long, string?)> SetSockOpt(ScriptEvent e, ScriptSyscall call)
    {
        var s = Socket(e, call.Args);
        if (call.Args.Count < 4) throw new ScriptFailure(e.Line, "setsockopt needs a level, a name and a value", e.Text);
        string name = call.Args[2];
        string raw = call.Args[3].Trim('[', ']').Trim();
        long.TryParse(raw, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v);
        return () =>
        {
            var sock = s.Socket;
            if (name == "TCP_SYNCNT" && v is < 1 or > 127) return Fail("EINVAL"); // MAX_TCP_SYNCNT
            if (sock.Protocol is not null)
            {
                // Settings a live connection takes.
                switch (name)
                {
                    case "SO_SNDBUF":
                        int size = (int)Math.Clamp(v, 1, int.MaxValue / 2);
                        if (LinuxSockets) size *= 2; // Linux doubles it (room for its bookkeeping) and reports the double
                        s.SendBufferReported = size;
                        return sock.SetSendBufferSize(size) == SocketError.Success ? Ok(0) : Fail("ENOBUFS");
                    case "TCP_NODELAY":
                        sock.SetNoDelay(v != 0);
                        return Ok(0);
                    case "TCP_CORK":
                        sock.SetCork(v != 0);
                        return Ok(0);
                    case "SO_KEEPALIVE":
                        sock.SetKeepAlive(v != 0);
                        return Ok(0);
                    case "TCP_KEEPIDLE" or "TCP_KEEPINTVL" or "TCP_KEEPCNT" when v <= 0:
                        return Fail("EINVAL");
                    case "TCP_KEEPIDLE":
                        sock.SetKeepAliveTimes(idle: TimeSpan.FromSeconds(v));
                        return Ok(0);
                    case "TCP_KEEPINTVL":
                        sock.SetKeepAliveTimes(interval: TimeSpan.FromSeconds(v));
                        return Ok(0);
                    case "TCP_KEEPCNT":
                        sock.SetKeepAliveTimes(count: (int)v);
                        return Ok(0);
                    case "TCP_USER_TIMEOUT":
                        sock.Protocol.UserTimeout = v > 0 ? TimeSpan.FromMilliseconds(v) : null;
                        return Ok(0);
                    case "TCP_INQ":
                        s.ReportInq = v != 0;
                        return Ok(0);
                    case "TCP_QUICKACK" when LinuxSockets:
                        sock.Protocol.SetQuickAck(v != 0, _now);
                        return Ok(0);
                    case "TCP_LINGER2" when LinuxSockets:
                        s.Linger2 = v;
                        sock.Protocol.FinWait2Timeout = Linger2(v);
                        return Ok(0);
                    case "TCP_NOTSENT_LOWAT":
                        s.NotSentLowWater = v;
                        sock.SetNotSentLowWater((int)Math.Min(v, int.MaxValue));
                        return Ok(0);
                }
            }
            var o = sock.Options;
            sock.Options = name switch
            {
                "SO_REUSEADDR" or "SO_REUSEPORT" => o,
                "SO_RCVBUF" => o with { ReceiveBufferSize = (int)(LinuxSockets ? 2 * v : v) }, // Linux doubles it too
                "TCP_CONGESTION" => raw.Trim('"') switch
                {
                    "cubic" => o with { CongestionControl = Synack.Tcp.CongestionControlAlgorithm.Cubic },
                    "reno" => o with { CongestionControl = Synack.Tcp.CongestionControlAlgorithm.NewReno },
                    var other => throw new UnsupportedScriptException($"congestion control {other}"),
                },
                "SO_SNDBUF" => o with { SendBufferSize = (int)(LinuxSockets ? 2 * v : v) },
                "SO_KEEPALIVE" => o with { KeepAlive = v != 0 },
                "TCP_NODELAY" => o with { Nagle = v == 0 },
                "TCP_KEEPIDLE" => o with { KeepAliveIdle = TimeSpan.FromSeconds(v) },
                "TCP_KEEPINTVL" => o with { KeepAliveInterval = TimeSpan.FromSeconds(v) },
                "TCP_KEEPCNT" => o with { KeepAliveCount = (int)v },
                "TCP_MAXSEG" => o with { Mss = (ushort)Math.Clamp(v, 64, 65535) },
                "IP_TOS" or "IPV6_TCLASS" or "IP_TTL" or "IPV6_UNICAST_HOPS" => o,
                "SO_LINGER" => o,
                "TCP_KEEPINIT" => o with { ConnectionEstablishmentTimeout = TimeSpan.FromSeconds(v) },
                "TCP_NOOPT" => o with { WindowScaling = v == 0, Sack = v == 0, Timestamps = v == 0, SendMssOption = v == 0 },
                "TCP_FUNCTION_BLK" => o,
                "TCP_USER_TIMEOUT" => o with { UserTimeout = v > 0 ? TimeSpan.FromMilliseconds(v) : null },
                "TCP_INQ" => o,
                "TCP_QUICKACK" when LinuxSockets => o, // the listener's own ACK mode; its children start afresh
                "TCP_LINGER2" when LinuxSockets => o with { FinWait2Timeout = Linger2(v) },
                "TCP_SYNCNT" when LinuxSockets => o with { SynRetries = (int)v },
                "TCP_NOTSENT_LOWAT" => v > 0 ? o with { NotSentLowWater = (int)Math.Min(v, int.MaxValue) } : o, // 0: the sysctl's
                _ => throw new UnsupportedScriptException($"setsockopt {name}"),
            };
            if (name == "SO_REUSEADDR") s.ReuseAddress = v != 0;
            if (name == "TCP_INQ") s.ReportInq = v != 0;
            if (name == "TCP_NOTSENT_LOWAT") s.NotSentLowWater = v;
            if (name == "SO_SNDBUF") s.SendBufferReported = sock.Options.SendBufferSize;
            if (name == "TCP_MAXSEG") s.UserMss = (int)Math.Clamp(v, 64, 65535);
            if (name == "TCP_LINGER2") s.Linger2 = v;
            // IP fields may change on an open connection: the next packet carries them.
            if (name is "IP_TOS" or "IPV6_TCLASS")
            {
                sock.Dscp = (byte)(TrafficClassValue(raw) >> 2);
                return Ok(0);
            }
            if (name is "IP_TTL" or "IPV6_UNICAST_HOPS")
            {
                sock.HopLimit = (byte)Math.Clamp(v, 0, 255);
                return Ok(0);
            }
            if (name == "SO_LINGER")
            {
                // {onoff=1, linger=0}: close() aborts with RST instead of closing gracefully.
                bool zero = raw.Contains("onoff=1", StringComparison.Ordinal) && raw.Replace(" ", "", StringComparison.Ordinal).Contains("linger=0", StringComparison.Ordinal);
                sock.Linger = zero ? TimeSpan.Zero : null;
            }
            if (sock.Protocol is not null && !ReferenceEquals(o, sock.Options) && name is not ("SO_REUSEADDR" or "SO_REUSEPORT" or "SO_LINGER"))
                throw new UnsupportedScriptException($"setsockopt {name} on an open connection (options are fixed when the connection opens)");
            // On a listener the options are those its children will start with (sock.Options passes them on).
            return Ok(0);
        };
    }

    /// <summary>TCP_LINGER2's seconds as the FIN-WAIT-2 time: negative, none; 0, the sysctl's; at most TCP_FIN_TIMEOUT_MAX (120 s).</summary>
    private TimeSpan Linger2(long seconds) =>
        seconds < 0 ? TimeSpan.FromSeconds(-1) : seconds == 0 ? _options.FinWait2Timeout : TimeSpan.FromSeconds(Math.Min(seconds, 120));

    /// <summary>IP_TOS / IPV6_TCLASS values: a number, or the names FreeBSD's netinet/ip.h gives them.</summary>
    private static int TrafficClassValue(string raw)
    {
        if (raw.StartsWith("IPTOS_DSCP_CS", StringComparison.Ordinal) && int.TryParse(raw.AsSpan(13), NumberStyles.None, CultureInfo.InvariantCulture, out int cs) && cs is >= 0 and <= 7)
            return cs << 5;
        if (raw.StartsWith("IPTOS_DSCP_AF", StringComparison.Ordinal) && raw.Length == 15 && raw[13] is >= '1' and <= '4' && raw[14] is >= '1' and <= '3')
            return ((raw[13] - '0') << 5) | ((raw[14] - '0') << 3);
        if (raw == "IPTOS_DSCP_EF") return 0xb8;
        return (int)ScriptSyscall.ParseNumber(raw);
    }
}
