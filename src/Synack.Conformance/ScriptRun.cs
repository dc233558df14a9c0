using System.Globalization;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>One execution of one script.</summary>
internal sealed partial class ScriptRun
{
    private const ushort ScriptLocalPort = 8080;   // bind() and listen() in the scripts mean this port
    private const ushort ScriptRemotePort = 50000; // the script's end of a passive open
    private static readonly TimeSpan AnyTimeLimit = TimeSpan.FromSeconds(3600);

    private readonly PacketdrillScript _script;
    private readonly List<string> _notes = [];
    private readonly List<string> _transcript = [];
    private readonly List<ScriptObservation> _observed = [];
    private readonly Queue<(TimeSpan At, byte[] Bytes)> _sent = new();
    private readonly Dictionary<int, ScriptSocket> _fds = [];
    private readonly Dictionary<uint, uint> _tsVals = []; // script TS val -> live TS val
    private ConnectionOptions _options;
    private ConnectionOptions? _savedOptions; // before set_sysctls.py, for the restore script
    private readonly bool _linux;             // Google's Linux dialect (defaults.sh, net.ipv4 sysctls)
    private readonly Dictionary<string, double> _pythonVariables = [];
    private int _groSegmentSize;
    private bool _strictSegments; // --strict_segments: a line is one packet, never a burst cut or joined // --mss: injected packets longer than this stand for GRO segments of this size
    private NetworkStack? _stack;
    private IpAddr _local, _remote;
    private bool _v6;
    private TimeSpan _now;
    private TimeSpan _tolerance;
    private ushort _remotePort = ScriptRemotePort;
    private ushort _localPort = ScriptLocalPort;
    private uint _liveLocalIsn, _scriptLocalIsn; // learned from our first SYN
    private ScriptSocket? _current;                 // the socket tcpi_* asserts look at
    private PendingCall? _pending;
    private int _line; // the line being run, for errors nobody anticipated

    private sealed record PendingCall(ScriptEvent Event, ScriptSyscall Call, TimeSpan Start, TimeSpan? End, Func<(bool Done, long Result, string? Errno)> Attempt);

    /// <param name="profile">The stack's starting configuration; null: Linux's for a script in Google's dialect, else FreeBSD's.</param>
    /// <param name="kernel">When given, the Linux kernel behind this TUN target is the stack under test, in real time.</param>
    /// <param name="recording">A generated scenario: the stack's packets and results are recorded, not held to lines.</param>
    /// <param name="isns">The ISNs the stack gives its connections, in turn (a recorded run takes the kernel's, whose later ones are random); null: RFC 6528's from a fixed secret.</param>
    public ScriptRun(PacketdrillScript script, ConnectionOptions? profile, PcapNgWriter? capture = null, Kernel.KernelTarget? kernel = null, bool recording = false, IReadOnlyList<uint>? isns = null)
    {
        _isns = isns;
        _script = script;
        _kernel = kernel;
        _recording = recording;
        _linux = script.Events.Any(e => e.Kind == EventKind.Command && LinuxShell.IsLinux(e.Text));
        _options = profile ?? (_linux ? ConnectionOptions.Linux : ConnectionOptions.FreeBsd);
        _linuxProfile = IsLinuxProfile(profile);
        if (capture is not null)
        {
            _capture = capture;
            _captureInterface = capture.AddInterface("synack", "the stack under test; inbound packets are the script's");
        }
    }

    /// <summary>
    /// The socket layer answers as Linux's does (errno, SO_SNDBUF doubled, the default MSS): for a script
    /// in Google's dialect, and for any script run as a Linux profile (held to the kernel, say).
    /// </summary>
    private bool LinuxSockets => _linux || _linuxProfile;

    private bool _linuxProfile; // the stack runs as one of the Linux profiles, whatever the script's dialect

    private static bool IsLinuxProfile(ConnectionOptions? o) => ReferenceEquals(o, ConnectionOptions.Linux) || ReferenceEquals(o, ConnectionOptions.Linux618);

    private readonly PcapNgWriter? _capture;
    private readonly IReadOnlyList<uint>? _isns;
    private readonly int _captureInterface;

    private void Record(ReadOnlySpan<byte> packet, PacketDirection direction, string? comment) =>
        _capture?.WritePacket(_captureInterface, packet, _now.Ticks * 100, direction, comment);

    private static readonly string[] KernelOnlyCalls = [];

    public ScriptResult Execute(string displayPath)
    {
        try
        {
            ReadOptions();
            CheckSupported();
            Run();
            return new ScriptResult(displayPath, ScriptOutcome.Pass) { Notes = _notes, Transcript = _transcript, Observations = _observed, Tolerance = _tolerance, LocalIsns = _isnsSent.Count > 0 ? _isnsSent : null };
        }
        catch (UnsupportedScriptException e)
        {
            return new ScriptResult(displayPath, ScriptOutcome.Unsupported, Reason: e.Message) { Notes = _notes, Transcript = _transcript, Observations = _observed, Tolerance = _tolerance };
        }
        catch (ScriptFailure f)
        {
            _observed.Add(new ScriptObservation(f.Line, Untimed($"fail: {f.Reason}" + (f.Actual is null ? "" : $" ({Normalized(f.Actual)})"))));
            return new ScriptResult(displayPath, ScriptOutcome.Fail, f.Line, f.Expected, f.Actual, f.Reason) { Notes = _notes, Transcript = _transcript, Observations = _observed, Tolerance = _tolerance };
        }
        catch (IOException e) when (OnKernel)
        {
            // The device or the namespace refused something: this script's failure, with its place.
            return new ScriptResult(displayPath, ScriptOutcome.Fail, _line, Reason: $"the kernel target: {e.Message}") { Notes = _notes, Transcript = _transcript, Observations = _observed, Tolerance = _tolerance };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or KeyNotFoundException)
        {
            // A line the checks above let through but the run could not make sense of: still a
            // failure of this script with its place, never a crash of the whole run.
            return new ScriptResult(displayPath, ScriptOutcome.Fail, _line, Reason: $"cannot run this line: {e.GetType().Name}: {e.Message}") { Notes = _notes, Transcript = _transcript, Observations = _observed, Tolerance = _tolerance };
        }
        finally
        {
            _stack?.Dispose();
            CloseKernelSockets();
        }
    }

    private void ReadOptions()
    {
        var o = _script.Options;
        // Our own scripts may name the profile they are written for (an option packetdrill does not have).
        if (o.TryGetValue("profile", out var profile))
        {
            if (!Profiles.TryFind(profile, out var named)) throw new ScriptFailure(0, $"unknown profile '{profile}' (known: {string.Join(", ", Profiles.Names)})");
            if (named is not null) _options = named;
            _linuxProfile = IsLinuxProfile(named);
        }
        if (o.ContainsKey("udp_encapsulation")) throw new UnsupportedScriptException("TCP over UDP encapsulation");
        var ipVersion = o.GetValueOrDefault("ip_version", "ipv4");
        if (ipVersion is not ("ipv4" or "ipv6")) throw new UnsupportedScriptException($"--ip_version={ipVersion} (IPv4-mapped IPv6 sockets)");
        _v6 = ipVersion == "ipv6";
        long usecs = 4000;
        if (o.TryGetValue("tolerance_usecs", out var tol) && !long.TryParse(tol, NumberStyles.None, CultureInfo.InvariantCulture, out usecs))
            throw new ScriptFailure(0, $"--tolerance_usecs={tol} is not a number of microseconds");
        _tolerance = TimeSpan.FromMicroseconds(usecs);
        if (OnKernel && Kernel.KernelTarget.Jiffy > TimeSpan.FromMilliseconds(1))
        {
            // Google's scripts assume a 1000 Hz kernel; a slower tick fires every timer up to a jiffy later.
            _tolerance += Kernel.KernelTarget.Jiffy;
            _notes.Add($"timing tolerance {_tolerance.TotalMilliseconds:0.#} ms: the script's plus one jiffy of this kernel ({Kernel.KernelTarget.Jiffy.TotalMilliseconds:0.#} ms, CONFIG_HZ={1000 / Kernel.KernelTarget.Jiffy.TotalMilliseconds:0})");
        }
        _strictSegments = o.ContainsKey("strict_segments");
        if (o.TryGetValue("mss", out var mss) && int.TryParse(mss, NumberStyles.None, CultureInfo.InvariantCulture, out int groSize)) _groSegmentSize = groSize;
        // Documentation addresses: nothing here leaves the process, but keep to the ranges anyway.
        _local = IpAddr.Parse(_v6 ? "2001:db8::1" : "192.0.2.1");
        _remote = IpAddr.Parse(_v6 ? "2001:db8::2" : "198.51.100.1");
        if (OnKernel || _recording)
        {
            // The kernel is the local end; the device routes the script's peer to us. A recorded run on
            // Synack takes the same addresses, so its capture reads like the kernel's beside it.
            _local = IpAddr.Parse(_v6 ? Kernel.KernelTarget.KernelV6 : Kernel.KernelTarget.KernelV4);
            _remote = IpAddr.Parse(_v6 ? Kernel.KernelTarget.PeerV6 : Kernel.KernelTarget.PeerV4);
        }
    }

    /// <summary>Looks over the whole script first, so a script needing what is out of scope is reported as such, not as a failure halfway.</summary>
    private void CheckSupported()
    {
        var assigned = new HashSet<string>();
        foreach (var e in _script.Events)
        {
            try
            {
                switch (e.Kind)
                {
                    case EventKind.Inbound or EventKind.Outbound when ScriptIcmp.IsIcmp(e.Text):
                        ScriptIcmp.Parse(e.Text, _v6);
                        break;
                    case EventKind.Inbound or EventKind.Outbound:
                        ScriptPacket.Parse(e.Text);
                        break;
                    case EventKind.SystemCall:
                        var call = ScriptSyscall.Parse(e.Text);
                        if (!(OnKernel && KernelOnlyCalls.Contains(call.Name))) CheckCallSupported(call);
                        break;
                    case EventKind.Python:
                        CheckPythonSupported(PythonBlock.Parse(e.Text), assigned, OnKernel);
                        break;
                    case EventKind.Command when OnKernel:
                        break; // run for real, in the namespace
                    case EventKind.Command when _linux:
                        ConnectionOptions? saved = null;
                        LinuxShell.Apply(e.Text, ScriptDirectory, ConnectionOptions.Linux, [], ref saved);
                        break;
                    case EventKind.Command:
                        var cmd = e.Text.Trim('`').Trim();
                        if (!PacketdrillRunner.SysctlCommand().IsMatch(cmd) && !PacketdrillRunner.TcpdropCommand().IsMatch(cmd)
                            && !(PacketdrillRunner.SockstatCommand().Match(cmd) is { Success: true } m && PacketdrillRunner.CountPipe().IsMatch(m.Groups["pipe"].Value)))
                            throw new UnsupportedScriptException($"shell command: {cmd}");
                        if (PacketdrillRunner.SysctlCommand().Match(cmd) is { Success: true } s)
                            Sysctl.Apply(ConnectionOptions.FreeBsd, s.Groups["name"].Value, long.Parse(s.Groups["value"].Value, CultureInfo.InvariantCulture), []);
                        break;
                }
            }
            catch (FormatException f)
            {
                throw new ScriptFailure(e.Line, "malformed line: " + f.Message, e.Text);
            }
        }
    }

    private string ScriptDirectory => Path.GetDirectoryName(Path.GetFullPath(_script.Path)) ?? ".";

    /// <summary>Every name a Python block reads must be a tcp_info field we answer, a constant, or assigned before.</summary>
    private static void CheckPythonSupported(PythonBlock block, HashSet<string> assigned, bool kernel)
    {
        foreach (var name in block.NamesReadBeforeAssigned(assigned))
        {
            if (TcpInfoFields.IsKnown(name) || kernel && Kernel.KernelTcpInfoFields.IsField(name)) continue;
            throw new UnsupportedScriptException($"Python name {name} (not a tcp_info field answered here)");
        }
        assigned.UnionWith(block.Assigned);
    }

    private static void CheckCallSupported(ScriptSyscall call)
    {
        switch (call.Name)
        {
            case "socket" or "bind" or "listen" or "accept" or "connect" or "read" or "write" or "send" or "recv"
                or "sendto" or "recvfrom" or "close" or "shutdown" or "fcntl" or "getsockopt" or "setsockopt" or "ioctl" or "poll"
                or "epoll_create" or "epoll_create1" or "epoll_ctl" or "epoll_wait":
                break;
            case "recvmsg" or "sendmsg":
                if (call.Args.Count < 2) throw new FormatException($"{call.Name} needs a descriptor and a msghdr");
                ScriptMessage.Parse(call.Args[1]);
                break;
            default:
                throw new UnsupportedScriptException($"system call {call.Name}()");
        }
        if (call.Name == "socket" && call.Args.Count > 1 && call.Args[1] != "SOCK_STREAM")
            throw new UnsupportedScriptException($"socket type {call.Args[1]}");
        if (call.Name == "sendto" && call.Args.Count > 3 && call.Args[3].Contains("MSG_FASTOPEN", StringComparison.Ordinal))
            throw new UnsupportedScriptException("TCP fast open (sendto with MSG_FASTOPEN)");
        if (call.Name == "ioctl" && call.Args.Count > 1 && call.Args[1] is not ("SIOCINQ" or "FIONREAD"))
            throw new UnsupportedScriptException($"ioctl {call.Args[1]}");
        if (call.Name is "setsockopt" or "getsockopt" && call.Args.Count >= 3)
        {
            switch (call.Args[2])
            {
                case "TCP_FASTOPEN": throw new UnsupportedScriptException("TCP fast open");
                case "TCP_MD5SIG": throw new UnsupportedScriptException("TCP MD5 signatures");
                case "TCP_REMOTE_UDP_ENCAPS_PORT": throw new UnsupportedScriptException("TCP over UDP encapsulation");
                case "TCP_FUNCTION_BLK" when !call.Args[3].Contains("\"freebsd\"", StringComparison.Ordinal):
                    throw new UnsupportedScriptException($"alternative TCP stack {call.Args[3]}");
            }
            if (call.Args[2].StartsWith("TCP_RACK", StringComparison.Ordinal) || call.Args[2].StartsWith("TCP_BBR", StringComparison.Ordinal))
                throw new UnsupportedScriptException($"{call.Args[2]} (an alternative FreeBSD TCP stack)");
        }
    }

    // ------------------------------------------------------------------ the event loop

    private void Run()
    {
        TimeSpan last = TimeSpan.Zero;
        bool started = false;
        ScriptEvent? previous = null;
        foreach (var e in _script.Events)
        {
            _line = e.Line;
            if (OnKernel && !started)
            {
                if (e.Kind == EventKind.Command)
                {
                    // packetdrill's init command: run before the clock starts, so its time is nobody's.
                    _transcript.Add($"(init)    line {e.Line}: {e.Text.Split('\n')[0]}");
                    Command(e);
                    continue;
                }
                started = true;
                _kernel!.StartClock();
                _now = TimeSpan.Zero;
            }
            // On a live kernel a relative time counts from when the previous event really happened, as
            // packetdrill counts it, except between injected packets, which keep the script's spacing.
            if (OnKernel && e.Time.Relative && !(previous?.Kind == EventKind.Inbound && e.Kind == EventKind.Inbound)) last = _kernel!.Now;
            previous = e;
            TimeSpan? at = e.Time.Any ? null : (e.Time.Relative ? last : TimeSpan.Zero) + TimeSpan.FromSeconds(e.Time.Seconds);
            TimeSpan? end = e.Time.UpTo is double upTo ? (e.Time.Relative ? last : TimeSpan.Zero) + TimeSpan.FromSeconds(upTo) : null;
            TimeSpan? latest = e.Time.Latest is double l ? (e.Time.LatestRelative ? last : TimeSpan.Zero) + TimeSpan.FromSeconds(l) : null;
            if (e.Kind == EventKind.Outbound && _recording) throw new ScriptFailure(e.Line, "a recorded scenario has no expected packets: what the stack sends is recorded", e.Text);
            if (e.Kind == EventKind.Outbound)
            {
                last = ExpectOutbound(e, at, latest);
                continue;
            }
            if (OnKernel) _now = _kernel!.Now;
            var when = at ?? _now;
            if (when > _now) RunUntil(when, stopOnPacket: false);
            _transcript.Add($"{Seconds(when),-9} line {e.Line}: {e.Text.Split('\n')[0]}");
            if (_recording)
            {
                ObserveSent();
                if (e.Kind is EventKind.Inbound or EventKind.SystemCall) _lastActivity = when;
            }
            else CheckNothingUnexpected(e, when);
            switch (e.Kind)
            {
                case EventKind.Inbound: Inject(e); break;
                case EventKind.SystemCall: Call(e, when, end); break;
                case EventKind.Command: Command(e); break;
                case EventKind.Python: Assert(e); break;
            }
            TryPending();
            last = when; // a blocking call runs on while the script goes on from its start, as packetdrill's syscall thread does
        }
        if (_recording) ObserveSent();
        // A live kernel's blocked call may return a moment after the last line: it has until its time runs out.
        if (OnKernel && _pending is { } late) RunUntil((late.End ?? late.Start) + _tolerance, stopOnPacket: false);
        if (_pending is { } p)
        {
            throw new ScriptFailure(p.Event.Line, "the system call never returned", p.Call.Text, "still blocked at the end of the script");
        }
        // What the last events caused may go unchecked, as in packetdrill; a packet no line could have
        // matched may not (nplab's rule; Google's packetdrill only looks at packets a line expects).
        if (!_linux && _sent.Count > 0 && _sent.Peek().At < last - _tolerance)
        {
            var (t, bytes) = _sent.Peek();
            var lastLine = _script.Events.Count > 0 ? _script.Events[^1].Line : 0;
            throw new ScriptFailure(lastLine, "unexpected packet", "nothing", Describe(bytes, t));
        }
    }

    /// <summary>Advances virtual time to <paramref name="until"/>, firing the stack's timers on the way.</summary>
    private void RunUntil(TimeSpan until, bool stopOnPacket)
    {
        if (OnKernel)
        {
            KernelRunUntil(until, stopOnPacket);
            return;
        }
        while (true)
        {
            if (stopOnPacket && _sent.Count > 0) return;
            var wake = _stack?.NextWakeup;
            if (wake is TimeSpan w && w <= until)
            {
                if (w > _now) _now = w;
                _stack!.Advance(_now);
                TryPending();
                continue;
            }
            _now = until;
            _stack?.Advance(_now);
            TryPending();
            return;
        }
    }

    private void CheckNothingUnexpected(ScriptEvent e, TimeSpan when)
    {
        if (_sent.Count == 0 || _linux) return;
        var (t, bytes) = _sent.Peek();
        // A packet the script has not asked for yet is fine while a later line may still expect it
        // within the tolerance; one older than that cannot match any later line.
        if (t < when - _tolerance)
        {
            throw new ScriptFailure(e.Line, "unexpected packet before this line", e.Text, Describe(bytes, t));
        }
    }
}
