using System.Globalization;
using Synack.Stack;
using Synack.Tcp;

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
        var attempt = Dispatch(e, call);
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
        if (_pending is not { } p) return;
        var (done, result, errno) = p.Attempt();
        if (!done) return;
        _pending = null;
        var expectedEnd = p.End ?? p.Start;
        if (_now > expectedEnd + _tolerance)
        {
            throw new ScriptFailure(p.Event.Line, $"the call returned at {Seconds(_now)}, expected by {Seconds(expectedEnd)}", p.Call.Text, $"returned {result}{(errno is null ? "" : " " + errno)}");
        }
        Check(p.Event, p.Call, result, errno);
    }

    private static void Check(ScriptEvent e, ScriptSyscall call, long result, string? errno)
    {
        string have = errno is null ? result.ToString(CultureInfo.InvariantCulture) : $"-1 {errno}";
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
                int fd = 3;
                while (_fds.ContainsKey(fd)) fd++;
                _fds[fd] = new ScriptSocket(fd, _options);
                return () => Ok(fd);
            }
            case "fcntl":
                return Fcntl(e, call);
            case "bind":
            {
                var s = Socket(e, a);
                return () =>
                {
                    if (s.BoundPort is not null || s.Connection is not null) return Fail("EINVAL");
                    s.BoundPort = ScriptLocalPort;
                    _stack!.Bind(ScriptLocalPort, s.Options.Dscp, s.Options.HopLimit);
                    return Ok(0);
                };
            }
            case "listen":
            {
                var s = Socket(e, a);
                int backlog = a.Count > 1 ? int.Parse(a[1], CultureInfo.InvariantCulture) : 1;
                return () =>
                {
                    if (s.Connection is not null) return Fail("EINVAL");
                    if (s.Listener is not null) return Ok(0);
                    var port = s.BoundPort ?? ScriptLocalPort;
                    try
                    {
                        // BSD sizes the accept queue at 3/2 of the backlog, plus one.
                        s.Listener = _stack!.Listen(null, port, backlog * 3 / 2 + 1, s.Options);
                    }
                    catch (InvalidOperationException)
                    {
                        return Fail("EADDRINUSE");
                    }
                    _localPort = port;
                    _remotePort = ScriptRemotePort;
                    return Ok(0);
                };
            }
            case "accept":
            {
                var s = Socket(e, a);
                return () =>
                {
                    if (s.Listener is not { } l) return Fail("EINVAL");
                    if (!l.AcceptQueue.TryDequeue(out var sc)) return s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked;
                    sc.InAcceptQueue = false;
                    int fd = 3;
                    while (_fds.ContainsKey(fd)) fd++;
                    var ns = new ScriptSocket(fd, s.Options) { Connection = sc };
                    sc.Observer = ns;
                    if (sc.Connection.State == TcpState.Closed && Errno.FromTcpError(sc.Connection.Error) is { } err)
                    {
                        ns.Failed = true;
                        ns.PendingError = err;
                    }
                    _fds[fd] = ns;
                    _current = ns;
                    return Ok(fd);
                };
            }
            case "connect":
                return Connect(e, Socket(e, a));
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
                return () => Write(s, len, dontWait);
            }
            case "shutdown":
            {
                var s = Socket(e, a);
                string how = a.Count > 1 ? a[1] : "SHUT_RDWR";
                return () =>
                {
                    if (s.Connection is not { } sc || sc.Detached) return Fail("ENOTCONN");
                    if (how is "SHUT_WR" or "SHUT_RDWR")
                    {
                        var err = _stack!.Call(sc, c => c.Shutdown(_now));
                        if (err is not (TcpError.None or TcpError.ConnectionClosing)) return Fail(Errno.FromTcpError(err) ?? "EINVAL");
                    }
                    return Ok(0);
                };
            }
            case "close":
            {
                var s = Socket(e, a);
                return () =>
                {
                    _fds.Remove(s.Fd);
                    if (s.BoundPort is ushort bound && s.Connection is null) _stack!.Unbind(bound);
                    if (s.Listener is { } l) _stack!.StopListening(l);
                    if (s.Connection is { } sc)
                    {
                        sc.Observer = null;
                        if (s.LingerZero && !sc.Detached) _stack!.Abort(sc);
                        else if (!sc.Detached) _stack!.Call(sc, c => c.Close(_now));
                    }
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

    private ScriptSocket Socket(ScriptEvent e, IReadOnlyList<string> args)
    {
        if (args.Count == 0 || !int.TryParse(args[0], NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            throw new ScriptFailure(e.Line, "the first argument must be a file descriptor", e.Text);
        if (!_fds.TryGetValue(fd, out var s)) throw new ScriptFailure(e.Line, $"fd {fd} is not open", e.Text, "-1 EBADF");
        return s;
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
            },
            _ => throw new UnsupportedScriptException($"fcntl {cmd}"),
        };
    }

    private Func<(bool, long, string?)> Connect(ScriptEvent e, ScriptSocket s) => () =>
    {
        if (s.Listener is not null) return Fail("EINVAL");
        if (s.Connection is { } existing)
        {
            // A second connect() reports how the first one went, as BSD does.
            var st = existing.Connection.State;
            if (s.Failed)
            {
                if (s.PendingError is { } err)
                {
                    s.PendingError = null;
                    return Fail(err);
                }
                return Fail("EINVAL");
            }
            if (st is TcpState.SynSent or TcpState.SynReceived) return s.NonBlocking ? Fail("EALREADY") : Blocked;
            if (!s.ConnectReported)
            {
                s.ConnectReported = true;
                return s.NonBlocking ? Fail("EISCONN") : Ok(0);
            }
            return Fail("EISCONN");
        }
        _remotePort = ScriptLocalPort; // the script's peer listens on 8080
        var sc = _stack!.Connect(_remote, _remotePort, null, s.BoundPort ?? 0, s.Options, s);
        s.Connection = sc;
        _current = s;
        _localPort = sc.Connection.Tuple.LocalPort;
        if (s.NonBlocking) return Fail("EINPROGRESS");
        return Blocked;
    };

    private (bool, long, string?) Read(ScriptSocket s, int len, bool peek, bool dontWait)
    {
        bool nonBlocking = s.NonBlocking || dontWait;
        if (s.Connection is not { } sc) return Fail("ENOTCONN");
        var c = sc.Connection;
        if (s.PendingError is { } err && c.ReceiveQueued == 0)
        {
            s.PendingError = null;
            return Fail(err);
        }
        if (c.State is TcpState.SynSent or TcpState.SynReceived)
        {
            return nonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        }
        var buf = new byte[Math.Max(0, len)];
        if (peek)
        {
            int n = c.Peek(buf);
            if (n > 0 || c.PeerFinished || s.Failed || c.State == TcpState.Closed) return Ok(n);
            return nonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        }
        int got = _stack!.Call(sc, conn => conn.Receive(buf, _now, out var e2) is var k && e2 == TcpError.WouldBlock ? -1 : k);
        if (got >= 0) return Ok(got);
        return nonBlocking ? Fail("EWOULDBLOCK") : Blocked;
    }

    private (bool, long, string?) Write(ScriptSocket s, int len, bool dontWait)
    {
        bool nonBlocking = s.NonBlocking || dontWait;
        if (s.Connection is not { } sc) return Fail("ENOTCONN");
        if (s.PendingError is { } err)
        {
            s.PendingError = null;
            return Fail(err);
        }
        if (s.Failed || sc.Detached) return Fail("EPIPE");
        var c = sc.Connection;
        if (c.State is TcpState.SynSent or TcpState.SynReceived) return nonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        var data = new byte[len];
        var (n, error) = _stack!.Call(sc, conn => (conn.Send(data, _now, out var e2), e2));
        if (n > 0) return Ok(n);
        return error switch
        {
            TcpError.WouldBlock => nonBlocking ? Fail("EWOULDBLOCK") : Blocked,
            TcpError.None => Ok(0),
            TcpError.ConnectionClosing => Fail("EPIPE"),
            _ => Fail(Errno.FromTcpError(error) ?? "EPIPE"),
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
            var c = s.Connection?.Connection;
            string have;
            switch (name)
            {
                case "SO_RCVBUF":
                    have = (c?.ReceiveBufferSize ?? s.Options.ReceiveBufferSize).ToString(CultureInfo.InvariantCulture);
                    break;
                case "SO_SNDBUF":
                    have = s.Options.SendBufferSize.ToString(CultureInfo.InvariantCulture);
                    break;
                case "SO_ERROR":
                    have = s.PendingError ?? "0";
                    s.PendingError = null;
                    break;
                case "TCP_NODELAY":
                    have = s.Options.Nagle ? "0" : "1";
                    break;
                case "TCP_MAXSEG":
                    have = (c is { SendMss: > 0 } ? c.SendMss : s.Options.Mss).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPIDLE":
                    have = ((int)s.Options.KeepAliveIdle.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPINTVL":
                    have = ((int)s.Options.KeepAliveInterval.TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_KEEPCNT":
                    have = s.Options.KeepAliveCount.ToString(CultureInfo.InvariantCulture);
                    break;
                case "SO_KEEPALIVE":
                    have = s.Options.KeepAlive ? "1" : "0";
                    break;
                case "SO_REUSEADDR":
                    have = s.ReuseAddress ? "1" : "0";
                    break;
                case "TCP_KEEPINIT":
                    have = ((int)(s.Options.ConnectionEstablishmentTimeout ?? TimeSpan.Zero).TotalSeconds).ToString(CultureInfo.InvariantCulture);
                    break;
                case "TCP_NOOPT":
                    have = s.Options.SendMssOption ? "0" : "1";
                    break;
                case "SO_ACCEPTCONN":
                    have = s.Listener is not null ? "1" : "0";
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
            var o = s.Options;
            s.Options = name switch
            {
                "SO_REUSEADDR" or "SO_REUSEPORT" => o,
                "SO_RCVBUF" => o with { ReceiveBufferSize = (int)v },
                "SO_SNDBUF" => o with { SendBufferSize = (int)v },
                "SO_KEEPALIVE" => o with { KeepAlive = v != 0 },
                "TCP_NODELAY" => o with { Nagle = v == 0 },
                "TCP_KEEPIDLE" => o with { KeepAliveIdle = TimeSpan.FromSeconds(v) },
                "TCP_KEEPINTVL" => o with { KeepAliveInterval = TimeSpan.FromSeconds(v) },
                "TCP_KEEPCNT" => o with { KeepAliveCount = (int)v },
                "TCP_MAXSEG" => o with { Mss = (ushort)Math.Clamp(v, 64, 65535) },
                "IP_TOS" or "IPV6_TCLASS" => o with { Dscp = (byte)(TrafficClassValue(raw) >> 2) },
                "IP_TTL" or "IPV6_UNICAST_HOPS" => o with { HopLimit = (byte)Math.Clamp(v, 0, 255) },
                "SO_LINGER" => o,
                "TCP_KEEPINIT" => o with { ConnectionEstablishmentTimeout = TimeSpan.FromSeconds(v) },
                "TCP_NOOPT" => o with { WindowScaling = v == 0, Sack = v == 0, Timestamps = v == 0, SendMssOption = v == 0 },
                "TCP_FUNCTION_BLK" => o,
                _ => throw new UnsupportedScriptException($"setsockopt {name}"),
            };
            if (name == "SO_REUSEADDR") s.ReuseAddress = v != 0;
            if (name is "IP_TOS" or "IPV6_TCLASS" or "IP_TTL" or "IPV6_UNICAST_HOPS")
            {
                // IP fields may change on an open connection: the next packet carries them.
                if (s.Connection is { } open)
                {
                    open.Connection.Dscp = s.Options.Dscp;
                    open.Connection.HopLimit = s.Options.HopLimit;
                }
                if (s.BoundPort is ushort port && s.Connection is null) _stack!.Bind(port, s.Options.Dscp, s.Options.HopLimit);
                return Ok(0);
            }
            if (name == "SO_LINGER")
            {
                // {onoff=1, linger=0}: close() aborts with RST instead of closing gracefully.
                s.LingerZero = raw.Contains("onoff=1", StringComparison.Ordinal) && raw.Replace(" ", "", StringComparison.Ordinal).Contains("linger=0", StringComparison.Ordinal);
            }
            if (s.Connection is not null && !ReferenceEquals(o, s.Options) && name is not ("SO_REUSEADDR" or "SO_REUSEPORT" or "SO_LINGER"))
                throw new UnsupportedScriptException($"setsockopt {name} on an open connection (options are fixed when the connection opens)");
            if (s.Listener is not null && !ReferenceEquals(o, s.Options))
                throw new UnsupportedScriptException($"setsockopt {name} on a listening socket");
            return Ok(0);
        };
    }

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
