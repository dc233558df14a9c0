using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Conformance.Kernel;
using Synack.Wire;
using static Synack.Conformance.Kernel.KernelNative;

namespace Synack.Conformance;

// The Linux kernel as the stack under test: the same script, the same packet checks and timing, but
// the packets go through tun0 and the system calls are real ones on the kernel's sockets, in real time.
internal sealed unsafe partial class ScriptRun
{
    private readonly KernelTarget? _kernel;
    private readonly Dictionary<int, KernelSocket> _kfds = [];

    /// <summary>A descriptor of the script over a kernel descriptor, with the script's own view of O_NONBLOCK (the real one is always non-blocking, so a blocking call can wait while the script goes on).</summary>
    private sealed class KernelSocket(int fd, bool epoll = false)
    {
        public int Fd { get; } = fd;
        public bool Epoll { get; } = epoll;
        public bool NonBlocking { get; set; }
        public bool Connecting { get; set; }
        public bool ReportInq { get; set; }
    }

    private bool OnKernel => _kernel is not null;

    private void CloseKernelSockets()
    {
        // Wake any call still blocked (shutdown does; close alone may not), then close.
        foreach (var s in _kfds.Values) if (!s.Epoll) Shutdown(s.Fd, SHUT_RDWR);
        foreach (var t in _blockedCalls) t.Join(TimeSpan.FromSeconds(1));
        foreach (var s in _kfds.Values) Close(s.Fd);
        _kfds.Clear();
    }

    /// <summary>Waits in real time until <paramref name="until"/>, taking what the kernel sends as it comes.</summary>
    private void KernelRunUntil(TimeSpan until, bool stopOnPacket)
    {
        while (true)
        {
            DrainKernel(0);
            _now = _kernel!.Now;
            TryPending();
            if (stopOnPacket && _sent.Count > 0) return;
            var left = until - _now;
            if (left <= TimeSpan.Zero) return;
            // Poll the device at most 1 ms at a time: a blocked call may complete without a packet.
            DrainKernel((int)Math.Clamp(Math.Ceiling(left.TotalMilliseconds), 0, 1));
        }
    }

    private void DrainKernel(int timeoutMs)
    {
        while (_kernel!.Receive(timeoutMs) is { } packet)
        {
            timeoutMs = 0;
            var at = _kernel.Now;
            // Only TCP between the kernel and the script's peer is the script's business.
            if (!TcpPacket.TryParse(packet, out var ip, out _, out _) || ip.Source != _local || ip.Destination != _remote) continue;
            _sent.Enqueue((at, packet));
            if (_recording && _kernel.LastSegmentSize > 0) _segmentSizes[packet] = _kernel.LastSegmentSize;
            Record(packet, PacketDirection.Outbound, null);
            _transcript.Add("          sent " + Describe(packet, at));
        }
    }

    private string? _kernelCongestion; // the default congestion control the script asked for

    private void KernelCommand(ScriptEvent e)
    {
        var command = e.Text.Trim().Trim('`').Trim();
        // A namespace other than the first may only default to the congestion controls the host allows
        // (tcp_allowed_congestion_control); rather than change the host's, each socket asks for it.
        var text = command;
        foreach (Match inc in Regex.Matches(command, @"\S*common/defaults\.sh"))
        {
            var file = Path.GetFullPath(Path.Combine(ScriptDirectory, inc.Value));
            if (File.Exists(file)) text += "\n" + File.ReadAllText(file);
        }
        foreach (Match cc in Regex.Matches(text, @"tcp_congestion_control\s*=\s*(\w+)")) _kernelCongestion = cc.Groups[1].Value;
        // packetdrill runs the backquoted text with system(); so do we, inside the namespace.
        var (exit, output) = _kernel!.Shell(command, ScriptDirectory);
        if (output.Length > 0) _notes.Add($"line {e.Line}: {output.Split('\n')[0]}");
        if (exit != 0) throw new ScriptFailure(e.Line, $"the command exited {exit}", command, output);
    }

    // ------------------------------------------------------------------ system calls on kernel sockets

    private static readonly Dictionary<string, (int Level, int Name)> SocketOptions = new()
    {
        ["SO_REUSEADDR"] = (SOL_SOCKET, 2), ["SO_ERROR"] = (SOL_SOCKET, 4), ["SO_SNDBUF"] = (SOL_SOCKET, 7),
        ["SO_RCVBUF"] = (SOL_SOCKET, 8), ["SO_KEEPALIVE"] = (SOL_SOCKET, 9), ["SO_LINGER"] = (SOL_SOCKET, 13),
        ["SO_REUSEPORT"] = (SOL_SOCKET, 15), ["SO_RCVLOWAT"] = (SOL_SOCKET, 18), ["SO_SNDLOWAT"] = (SOL_SOCKET, 19),
        ["SO_TYPE"] = (SOL_SOCKET, 3), ["SO_ACCEPTCONN"] = (SOL_SOCKET, 30), ["SO_MAX_PACING_RATE"] = (SOL_SOCKET, 47),
        ["TCP_NODELAY"] = (SOL_TCP, 1), ["TCP_MAXSEG"] = (SOL_TCP, 2), ["TCP_CORK"] = (SOL_TCP, 3),
        ["TCP_KEEPIDLE"] = (SOL_TCP, 4), ["TCP_KEEPINTVL"] = (SOL_TCP, 5), ["TCP_KEEPCNT"] = (SOL_TCP, 6),
        ["TCP_SYNCNT"] = (SOL_TCP, 7), ["TCP_LINGER2"] = (SOL_TCP, 8), ["TCP_DEFER_ACCEPT"] = (SOL_TCP, 9),
        ["TCP_WINDOW_CLAMP"] = (SOL_TCP, 10), ["TCP_QUICKACK"] = (SOL_TCP, 12), ["TCP_CONGESTION"] = (SOL_TCP, 13),
        ["TCP_USER_TIMEOUT"] = (SOL_TCP, 18), ["TCP_NOTSENT_LOWAT"] = (SOL_TCP, 25), ["TCP_INQ"] = (SOL_TCP, 36),
        ["IP_TOS"] = (SOL_IP, 1), ["IP_TTL"] = (SOL_IP, 2), ["IPV6_UNICAST_HOPS"] = (SOL_IPV6, 16), ["IPV6_TCLASS"] = (SOL_IPV6, 67),
    };

    private static readonly Dictionary<string, uint> EpollBits = new()
    {
        ["EPOLLIN"] = 0x001, ["EPOLLPRI"] = 0x002, ["EPOLLOUT"] = 0x004, ["EPOLLERR"] = 0x008, ["EPOLLHUP"] = 0x010,
        ["EPOLLRDNORM"] = 0x040, ["EPOLLRDBAND"] = 0x080, ["EPOLLWRNORM"] = 0x100, ["EPOLLWRBAND"] = 0x200,
        ["EPOLLMSG"] = 0x400, ["EPOLLRDHUP"] = 0x2000, ["EPOLLEXCLUSIVE"] = 1u << 28, ["EPOLLWAKEUP"] = 1u << 29,
        ["EPOLLONESHOT"] = 1u << 30, ["EPOLLET"] = 1u << 31,
    };

    private static readonly Dictionary<string, short> PollBits = new()
    {
        ["POLLIN"] = POLLIN, ["POLLPRI"] = POLLPRI, ["POLLOUT"] = POLLOUT, ["POLLERR"] = POLLERR, ["POLLHUP"] = POLLHUP,
        ["POLLNVAL"] = POLLNVAL, ["POLLRDHUP"] = POLLRDHUP, ["POLLRDNORM"] = 0x040, ["POLLWRNORM"] = 0x100,
    };

    private Func<(bool Done, long Result, string? Errno)> KernelDispatch(ScriptEvent e, ScriptSyscall call)
    {
        var a = call.Args;
        switch (call.Name)
        {
            case "socket":
                return () =>
                {
                    int fd = KernelNative.Socket(_v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
                    if (fd < 0) return Fail(Errno.Name(LastErrno));
                    if (_kernelCongestion is { } cc)
                    {
                        var name = System.Text.Encoding.ASCII.GetBytes(cc);
                        int r;
                        fixed (byte* p = name) r = KernelNative.SetSockOpt(fd, SOL_TCP, 13, p, (uint)name.Length);
                        if (r < 0) _notes.Add($"line {e.Line}: TCP_CONGESTION {cc} refused: {KernelNative.Describe(LastErrno)}");
                    }
                    int scriptFd = NewKernelFd(call);
                    _kfds[scriptFd] = new KernelSocket(fd);
                    // tcpi_* look at the first socket until a connection is made (or it is closed).
                    if (_currentFd is not int current || !_kfds.ContainsKey(current) || current == scriptFd) _currentFd = scriptFd;
                    return Ok(scriptFd);
                };
            case "epoll_create" or "epoll_create1":
                return () =>
                {
                    int fd = EpollCreate1(O_CLOEXEC);
                    if (fd < 0) return Fail(Errno.Name(LastErrno));
                    int scriptFd = NewKernelFd(call);
                    _kfds[scriptFd] = new KernelSocket(fd, epoll: true);
                    return Ok(scriptFd);
                };
            case "bind":
                {
                    var s = KernelFd(e, a);
                    return () => Result(SockAddr(_local, ScriptLocalPort, (addr, len) => Bind(s.Fd, addr, len)));
                }
            case "listen":
                {
                    var s = KernelFd(e, a);
                    int backlog = a.Count > 1 ? (int)ScriptSyscall.ParseNumber(a[1]) : 1;
                    return () =>
                    {
                        int r = Listen(s.Fd, backlog);
                        if (r == 0)
                        {
                            _localPort = ScriptLocalPort;
                            _remotePort = ScriptRemotePort;
                        }
                        return Result(r);
                    };
                }
            case "accept":
                {
                    var s = KernelFd(e, a);
                    return Maybe(s, 0, () =>
                    {
                        int fd = Accept4(s.Fd, null, null, SOCK_CLOEXEC);
                        return (fd, fd < 0 ? LastErrno : 0);
                    }, fd =>
                    {
                        int scriptFd = NewKernelFd(call);
                        _kfds[scriptFd] = new KernelSocket((int)fd);
                        _currentFd = scriptFd;
                        return scriptFd;
                    });
                }
            case "connect":
                {
                    var s = KernelFd(e, a);
                    var attempt = Maybe(s, 0, () =>
                    {
                        int r = SockAddr(_remote, ScriptLocalPort, (addr, len) => KernelNative.Connect(s.Fd, addr, len)); // the script's peer listens on 8080
                        return (r, r < 0 ? LastErrno : 0);
                    });
                    return () =>
                    {
                        var outcome = attempt();
                        // Only a connect that starts (or makes) a connection moves the script's peer to its
                        // port: EISCONN on an accepted socket, say, leaves the connection the script talks to.
                        if (outcome.Errno is null or "EINPROGRESS" or "EALREADY")
                        {
                            _remotePort = ScriptLocalPort;
                            _currentFd = ScriptFdOf(s);
                        }
                        if (LocalPortOf(s.Fd) is ushort port and not 0) _localPort = port;
                        return outcome;
                    };
                }
            case "read" or "recv" or "recvfrom" or "write" or "send" or "sendto" when a.Count > 1 && a[1] == "NULL":
                {
                    var s = KernelFd(e, a);
                    return () => Fail("EFAULT");
                }
            case "read" or "recv" or "recvfrom":
                {
                    var s = KernelFd(e, a);
                    int len = a.Count > 2 ? (int)ScriptSyscall.ParseNumber(a[2]) : 0;
                    int flags = a.Count > 3 ? MessageFlags(a[3]) : 0;
                    return Maybe(s, flags, () =>
                    {
                        var buffer = new byte[Math.Max(0, len)];
                        nint n;
                        fixed (byte* p = buffer) n = Recv(s.Fd, p, (nuint)buffer.Length, flags);
                        return (n, n < 0 ? LastErrno : 0);
                    });
                }
            case "write" or "send" or "sendto":
                {
                    var s = KernelFd(e, a);
                    int len = a.Count > 2 ? (int)ScriptSyscall.ParseNumber(a[2]) : 0;
                    int flags = a.Count > 3 ? MessageFlags(a[3]) : 0;
                    return Maybe(s, flags, () => SendZeros(s, len, flags));
                }
            case "recvmsg":
                {
                    var s = KernelFd(e, a);
                    var msg = ScriptMessage.Parse(a[1]);
                    int flags = a.Count > 2 ? MessageFlags(a[2]) : 0;
                    int? inq = null;
                    var attempt = Maybe(s, flags, () => KernelRecvMsg(s, msg, flags, out inq));
                    return () =>
                    {
                        var outcome = attempt();
                        if (outcome.Done && outcome.Errno is null && msg.Inq is int want && inq != want)
                            throw new ScriptFailure(e.Line, $"TCP_CM_INQ gave {inq?.ToString(CultureInfo.InvariantCulture) ?? "nothing"}", call.Text, $"cmsg_data={inq}");
                        return outcome;
                    };
                }
            case "sendmsg":
                {
                    var s = KernelFd(e, a);
                    var msg = ScriptMessage.Parse(a[1]);
                    int flags = a.Count > 2 ? MessageFlags(a[2]) : 0;
                    return Maybe(s, flags, () => SendZeros(s, msg.Length, flags));
                }
            case "shutdown":
                {
                    var s = KernelFd(e, a);
                    int how = (a.Count > 1 ? a[1] : "SHUT_RDWR") switch { "SHUT_RD" => SHUT_RD, "SHUT_WR" => SHUT_WR, _ => SHUT_RDWR };
                    return () => Result(Shutdown(s.Fd, how));
                }
            case "close":
                {
                    var s = KernelFd(e, a);
                    return () =>
                    {
                        _kfds.Remove(ScriptFdOf(s));
                        return Result(Close(s.Fd));
                    };
                }
            case "fcntl":
                {
                    var s = KernelFd(e, a);
                    string cmd = a.Count > 1 ? a[1] : "";
                    return cmd switch
                    {
                        "F_GETFL" => () => Result(KernelNative.Fcntl(s.Fd, F_GETFL, 0)),
                        "F_SETFL" => () =>
                        {
                            bool nonBlocking = a.Count > 2 && a[2].Contains("O_NONBLOCK", StringComparison.Ordinal);
                            int r = KernelNative.Fcntl(s.Fd, F_SETFL, O_RDWR | (nonBlocking ? O_NONBLOCK : 0));
                            if (r == 0) s.NonBlocking = nonBlocking;
                            return Result(r);
                        },
                        _ => throw new UnsupportedScriptException($"fcntl {cmd}"),
                    };
                }
            case "ioctl":
                {
                    var s = KernelFd(e, a);
                    return ReadableBytes(e, call, () =>
                    {
                        int value = 0;
                        return Ioctl(s.Fd, SIOCINQ, &value) < 0 ? (0, Errno.Name(LastErrno)) : (value, null);
                    });
                }
            case "setsockopt":
                return KernelSetSockOpt(e, call);
            case "getsockopt":
                return KernelGetSockOpt(e, call);
            case "poll":
                return KernelPoll(e, call);
            case "epoll_ctl":
                return KernelEpollCtl(e, call);
            case "epoll_wait":
                return KernelEpollWait(e, call);
            default:
                throw new UnsupportedScriptException($"system call {call.Name}() on the kernel target");
        }
    }

    private int? _currentFd; // the script descriptor whose tcp_info the Python blocks read

    private static (bool, long, string?) Result(int r) => r < 0 ? Fail(Errno.Name(LastErrno)) : Ok(r);

    private int NewKernelFd(ScriptSyscall call) => NewDescriptor(call, _kfds);

    /// <summary>send() of <paramref name="length"/> zero bytes (scripts give lengths, not bytes); no SIGPIPE.</summary>
    private static (long, int) SendZeros(KernelSocket s, int length, int flags)
    {
        var buffer = new byte[Math.Max(0, length)];
        nint n;
        fixed (byte* p = buffer) n = Send(s.Fd, p, (nuint)buffer.Length, flags | MSG_NOSIGNAL);
        return (n, n < 0 ? LastErrno : 0);
    }

    private int ScriptFdOf(KernelSocket s) => _kfds.First(kv => ReferenceEquals(kv.Value, s)).Key;

    private KernelSocket KernelFd(ScriptEvent e, IReadOnlyList<string> args) => Descriptor(e, args, _kfds);

    private delegate int AddressCall(byte* address, uint length);

    /// <summary>Calls <paramref name="call"/> with a sockaddr_in or sockaddr_in6 for <paramref name="address"/>:<paramref name="port"/>.</summary>
    private static int SockAddr(IpAddr address, ushort port, AddressCall call)
    {
        byte* sa = stackalloc byte[28];
        new Span<byte>(sa, 28).Clear();
        var span = new Span<byte>(sa, 28);
        if (address.IsV6)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(span, AF_INET6);
            BinaryPrimitives.WriteUInt16BigEndian(span[2..], port);
            address.WriteTo(span[8..24]);
            return call(sa, 28);
        }
        BinaryPrimitives.WriteUInt16LittleEndian(span, AF_INET);
        BinaryPrimitives.WriteUInt16BigEndian(span[2..], port);
        address.WriteTo(span[4..8]);
        return call(sa, 16);
    }

    private static ushort? LocalPortOf(int fd)
    {
        byte* sa = stackalloc byte[28];
        uint len = 28;
        if (GetSockName(fd, sa, &len) < 0) return null;
        return BinaryPrimitives.ReadUInt16BigEndian(new ReadOnlySpan<byte>(sa + 2, 2));
    }

    private static int MessageFlags(string text)
    {
        int flags = 0;
        foreach (var part in text.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            flags |= part switch
            {
                "0" => 0,
                "MSG_PEEK" => MSG_PEEK,
                "MSG_DONTWAIT" => MSG_DONTWAIT,
                "MSG_EOR" => MSG_EOR,
                "MSG_MORE" => MSG_MORE,
                _ => throw new UnsupportedScriptException($"message flag {part}"),
            };
        }
        return flags;
    }

    /// <summary>
    /// recvmsg() with room for control messages; <paramref name="inq"/> is TCP_CM_INQ's count when the
    /// kernel sent one.
    /// </summary>
    private static (long, int) KernelRecvMsg(KernelSocket s, ScriptMessage msg, int flags, out int? inq)
    {
        inq = null;
        var buffer = new byte[Math.Max(1, msg.Length)];
        byte* control = stackalloc byte[64];
        fixed (byte* p = buffer)
        {
            var iov = new IoVec { Base = p, Length = (nuint)msg.Length };
            var hdr = new MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = 64 };
            nint n = RecvMsg(s.Fd, &hdr, flags);
            if (n < 0) return (n, LastErrno);
            // struct cmsghdr { size_t len; int level; int type; } then the data, an int.
            for (int off = 0; off + 16 <= (int)hdr.ControlLength;)
            {
                long clen = *(long*)(control + off);
                if (*(int*)(control + off + 8) == SOL_TCP && *(int*)(control + off + 12) == SCM_TCP_INQ) inq = *(int*)(control + off + 16);
                if (clen <= 0) break;
                off += (int)((clen + 7) & ~7);
            }
            return (n, 0);
        }
    }

    // ------------------------------------------------------------------ blocking calls

    private const int MSG_NOSIGNAL = 0x4000;
    private readonly List<Thread> _blockedCalls = [];
    private TimeSpan? _returnedAt; // when the blocking call just completed really returned

    /// <summary>
    /// A call that may block: on a non-blocking socket (or with MSG_DONTWAIT) it is made at once;
    /// otherwise it is made for real on a thread of its own, as packetdrill's system-call thread makes
    /// it, so the kernel sees a blocked caller (sk_stream_wait_memory, the SNDBUF_LIMITED chrono, wake-ups)
    /// while the script goes on. It counts as returned when the call returns.
    /// </summary>
    private Func<(bool Done, long Result, string? Errno)> Maybe(KernelSocket s, int flags, Func<(long Result, int Errno)> call, Func<long, long>? onSuccess = null)
    {
        (bool, long, string?) Finish((long Result, int Errno) r) =>
            r.Result < 0 ? Fail(Errno.Name(r.Errno)) : Ok(onSuccess is null ? r.Result : onSuccess(r.Result));
        if (s.NonBlocking || (flags & MSG_DONTWAIT) != 0) return () => Finish(call());
        var call_ = new BlockingCall(call, () => _kernel!.Now);
        return () =>
        {
            if (!call_.Started)
            {
                call_.Start();
                _blockedCalls.Add(call_.Thread!);
                WaitUntilDoneOrAsleep(call_);
            }
            if (call_.Outcome is not { } done) return Blocked;
            _returnedAt = call_.ReturnedAt;
            return Finish(done);
        };
    }

    /// <summary>Lets the call run until it returns or sleeps in the kernel, taking what the kernel sends meanwhile (at most 50 ms).</summary>
    private void WaitUntilDoneOrAsleep(BlockingCall call)
    {
        var until = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 20;
        while (call.Outcome is null && Stopwatch.GetTimestamp() < until)
        {
            if (call.Asleep()) return;
            DrainKernel(0);
            Thread.Yield();
        }
    }

    private sealed class BlockingCall(Func<(long Result, int Errno)> call, Func<TimeSpan> clock)
    {
        /// <summary>When the call returned, by the script's clock (the runner may notice a little later).</summary>
        public TimeSpan ReturnedAt { get; private set; }

        private volatile int _tid;
        private (long, int)? _outcome;
        private readonly Lock _gate = new();

        public Thread? Thread { get; private set; }
        public bool Started => Thread is not null;
        public (long Result, int Errno)? Outcome { get { lock (_gate) return _outcome; } }

        public void Start()
        {
            Thread = new Thread(() =>
            {
                _tid = GetTid();
                var r = call();
                var at = clock();
                lock (_gate)
                {
                    ReturnedAt = at;
                    _outcome = r;
                }
            }) { IsBackground = true, Name = "packetdrill blocking call" };
            Thread.Start();
        }

        /// <summary>The thread is sleeping (state S in /proc): blocked in the call.</summary>
        public bool Asleep()
        {
            int tid = _tid;
            if (tid == 0) return false;
            try
            {
                var stat = File.ReadAllText($"/proc/self/task/{tid}/stat");
                int close = stat.LastIndexOf(')');
                return close > 0 && close + 2 < stat.Length && stat[close + 2] == 'S';
            }
            catch (IOException)
            {
                return false;
            }
        }
    }

    private Func<(bool, long, string?)> KernelSetSockOpt(ScriptEvent e, ScriptSyscall call)
    {
        var s = KernelFd(e, call.Args);
        if (call.Args.Count < 4) throw new ScriptFailure(e.Line, "setsockopt needs a level, a name and a value", e.Text);
        string name = call.Args[2];
        if (!SocketOptions.TryGetValue(name, out var opt)) throw new UnsupportedScriptException($"setsockopt {name} on the kernel target");
        string raw = call.Args[3].Trim();
        return () =>
        {
            if (name == "TCP_CONGESTION")
            {
                var text = System.Text.Encoding.ASCII.GetBytes(raw.Trim('"'));
                fixed (byte* p = text) return Result(KernelNative.SetSockOpt(s.Fd, opt.Level, opt.Name, p, (uint)text.Length));
            }
            if (name == "SO_LINGER")
            {
                // {onoff=1, linger=0}
                int* linger = stackalloc int[2];
                linger[0] = Regex.Match(raw, @"onoff\s*=\s*(\d+)") is { Success: true } on ? int.Parse(on.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                linger[1] = Regex.Match(raw, @"linger\s*=\s*(\d+)") is { Success: true } l ? int.Parse(l.Groups[1].Value, CultureInfo.InvariantCulture) : 0;
                return Result(KernelNative.SetSockOpt(s.Fd, opt.Level, opt.Name, linger, 8));
            }
            int value = (int)ScriptSyscall.ParseNumber(raw.Trim('[', ']').Trim());
            if (name == "TCP_INQ") s.ReportInq = value != 0;
            return Result(KernelNative.SetSockOpt(s.Fd, opt.Level, opt.Name, &value, 4));
        };
    }

    private Func<(bool, long, string?)> KernelGetSockOpt(ScriptEvent e, ScriptSyscall call)
    {
        var s = KernelFd(e, call.Args);
        if (call.Args.Count < 4) throw new ScriptFailure(e.Line, "getsockopt needs a level, a name and a value", e.Text);
        string name = call.Args[2];
        if (!SocketOptions.TryGetValue(name, out var opt)) throw new UnsupportedScriptException($"getsockopt {name} on the kernel target");
        string want = call.Args[3].Trim('[', ']').Trim();
        return () =>
        {
            byte* buffer = stackalloc byte[64];
            uint len = 64;
            if (KernelNative.GetSockOpt(s.Fd, opt.Level, opt.Name, buffer, &len) < 0) return Fail(Errno.Name(LastErrno));
            string have;
            if (name == "TCP_CONGESTION")
            {
                have = "\"" + new string((sbyte*)buffer).TrimEnd('\0') + "\"";
            }
            else
            {
                int v = *(int*)buffer;
                have = name == "SO_ERROR" && v != 0 && !want.All(char.IsDigit) ? Errno.Name(v)
                    : name == "SO_TYPE" && want == "SOCK_STREAM" && v == SOCK_STREAM ? "SOCK_STREAM"
                    : v.ToString(CultureInfo.InvariantCulture);
            }
            if (have != want) throw new ScriptFailure(e.Line, $"getsockopt {name} gave [{have}]", call.Text, $"[{have}]");
            return Ok(0);
        };
    }

    private Func<(bool, long, string?)> KernelPoll(ScriptEvent e, ScriptSyscall call)
    {
        var entries = PollEntry().Matches(call.Args.Count > 0 ? call.Args[0] : "")
            .Select(m => (Fd: int.Parse(m.Groups["fd"].Value, CultureInfo.InvariantCulture), Events: Bits(m.Groups["events"].Value, PollBits),
                Revents: m.Groups["revents"].Success ? m.Groups["revents"].Value : null))
            .ToList();
        if (entries.Count == 0) throw new ScriptFailure(e.Line, "poll() without {fd=…, events=…} entries", e.Text);
        int timeoutMs = call.Args.Count > 2 ? (int)ScriptSyscall.ParseNumber(call.Args[2]) : -1;
        var deadline = timeoutMs < 0 ? TimeSpan.MaxValue : _now + TimeSpan.FromMilliseconds(timeoutMs);
        return () =>
        {
            var fds = stackalloc PollFd[entries.Count];
            for (int i = 0; i < entries.Count; i++)
                fds[i] = new PollFd { Fd = _kfds.TryGetValue(entries[i].Fd, out var k) ? k.Fd : -1, Events = (short)entries[i].Events };
            int ready = KernelNative.Poll(fds, (nuint)entries.Count, 0);
            if (ready < 0) return Fail(Errno.Name(LastErrno));
            if (ready == 0 && _now < deadline) return Blocked;
            for (int i = 0; i < entries.Count; i++)
            {
                string got = Names((uint)(ushort)fds[i].Revents, PollBits.ToDictionary(kv => kv.Key, kv => (uint)(ushort)kv.Value));
                if (entries[i].Revents is { } w && !SameEvents(w, got))
                    throw new ScriptFailure(e.Line, $"poll() revents for fd {entries[i].Fd} were {got}", call.Text, $"revents={got}");
            }
            return Ok(ready);
        };
    }

    [GeneratedRegex(@"\{\s*events\s*=\s*(?<events>[A-Z|0-9]+)\s*,\s*(fd\s*=\s*(?<fd>[0-9]+)|u64\s*=\s*(?<u64>[0-9]+)|ptr\s*=\s*(?<ptr>[0-9]+)|\.\.\.)\s*\}")]
    private static partial Regex EpollEntry();

    private Func<(bool, long, string?)> KernelEpollCtl(ScriptEvent e, ScriptSyscall call)
    {
        var ep = KernelFd(e, call.Args);
        var a = call.Args;
        int op = a.Count > 1 ? a[1] switch { "EPOLL_CTL_ADD" => EPOLL_CTL_ADD, "EPOLL_CTL_MOD" => EPOLL_CTL_MOD, "EPOLL_CTL_DEL" => EPOLL_CTL_DEL, var x => throw new UnsupportedScriptException($"epoll_ctl {x}") } : 0;
        var target = KernelFd(e, [a.Count > 2 ? a[2] : ""]);
        var m = a.Count > 3 ? EpollEntry().Match(a[3]) : Match.Empty;
        uint events = m.Success ? Bits(m.Groups["events"].Value, EpollBits) : 0;
        ulong data = m.Success && m.Groups["fd"].Success ? ulong.Parse(m.Groups["fd"].Value, CultureInfo.InvariantCulture)
            : m.Success && m.Groups["u64"].Success ? ulong.Parse(m.Groups["u64"].Value, CultureInfo.InvariantCulture)
            : m.Success && m.Groups["ptr"].Success ? ulong.Parse(m.Groups["ptr"].Value, CultureInfo.InvariantCulture) : 0;
        return () =>
        {
            var ev = new EpollEvent { Events = events, Data = data };
            return Result(EpollCtl(ep.Fd, op, target.Fd, &ev));
        };
    }

    private Func<(bool, long, string?)> KernelEpollWait(ScriptEvent e, ScriptSyscall call)
    {
        var ep = KernelFd(e, call.Args);
        var a = call.Args;
        var expected = a.Count > 1 ? EpollEntry().Matches(a[1]).Select(m => m.Value).ToList() : [];
        int max = a.Count > 2 ? (int)ScriptSyscall.ParseNumber(a[2]) : 1;
        int timeoutMs = a.Count > 3 ? (int)ScriptSyscall.ParseNumber(a[3]) : -1;
        var deadline = timeoutMs < 0 ? TimeSpan.MaxValue : _now + TimeSpan.FromMilliseconds(timeoutMs);
        return () =>
        {
            var events = stackalloc EpollEvent[Math.Max(1, max)];
            int n = EpollWait(ep.Fd, events, Math.Max(1, max), 0);
            if (n < 0) return Fail(Errno.Name(LastErrno));
            if (n == 0 && _now < deadline) return Blocked;
            for (int i = 0; i < Math.Min(n, expected.Count); i++)
            {
                var want = EpollEntry().Match(expected[i]);
                string got = Names(events[i].Events, EpollBits);
                if (!SameEvents(want.Groups["events"].Value, got))
                    throw new ScriptFailure(e.Line, $"epoll_wait() events were {got}", call.Text, $"events={got}");
            }
            return Ok(n);
        };
    }

    private static uint Bits<T>(string text, Dictionary<string, T> names) where T : struct
    {
        uint bits = 0;
        foreach (var part in text.Split('|', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (part == "0") continue;
            if (!names.TryGetValue(part, out var v)) throw new UnsupportedScriptException($"event {part}");
            bits |= Convert.ToUInt32(v, CultureInfo.InvariantCulture) & 0xFFFFFFFF;
        }
        return bits;
    }

    private static string Names(uint bits, Dictionary<string, uint> names)
    {
        var list = new List<string>();
        foreach (var (name, bit) in names)
        {
            if (bit != 0 && (bits & bit) == bit && name is not ("POLLRDNORM" or "POLLWRNORM" or "EPOLLRDNORM" or "EPOLLWRNORM")) list.Add(name);
        }
        return list.Count == 0 ? "0" : string.Join("|", list);
    }

    // ------------------------------------------------------------------ tcp_info

    /// <summary>The kernel's struct tcp_info for the current socket, field by field as the scripts name them.</summary>
    private Func<string, double> KernelTcpInfo()
    {
        var fields = new Dictionary<string, double>();
        if (_currentFd is int sfd && _kfds.TryGetValue(sfd, out var s))
        {
            byte* info = stackalloc byte[256];
            new Span<byte>(info, 256).Clear();
            uint len = 256;
            if (KernelNative.GetSockOpt(s.Fd, SOL_TCP, 11, info, &len) == 0) KernelTcpInfoFields.Read(new ReadOnlySpan<byte>(info, (int)len), fields);
        }
        return name => fields.TryGetValue(name, out var v) ? v : TcpInfoFields.Constant(name);
    }
}
