using System.Buffers.Binary;
using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// Runs a packetdrill script against one <see cref="NetworkStack"/> on a virtual clock. The script
/// plays the remote peer: its <c>&lt;</c> packets are injected, its <c>&gt;</c> packets must be the
/// ones the stack sends, in order and in time, and its system calls go through a BSD socket layer
/// over the stack. Nothing here touches a kernel or a real clock.
/// </summary>
public static partial class PacketdrillRunner
{
    /// <summary>Runs the script in <paramref name="path"/>; <paramref name="profile"/> is the stack's starting configuration (FreeBSD's by default).</summary>
    public static ScriptResult RunFile(string path, ConnectionOptions? profile = null, string? displayPath = null)
    {
        displayPath ??= path;
        PacketdrillScript script;
        try
        {
            script = PacketdrillParser.ParseFile(path);
        }
        catch (ScriptParseException e)
        {
            return new ScriptResult(displayPath, ScriptOutcome.Fail, e.Line, Reason: "parse error: " + e.Message);
        }
        return Run(script, profile, displayPath);
    }

    public static ScriptResult Run(PacketdrillScript script, ConnectionOptions? profile = null, string? displayPath = null)
    {
        var run = new ScriptRun(script, profile ?? ConnectionOptions.FreeBsd);
        return run.Execute(displayPath ?? script.Path);
    }

    [GeneratedRegex(@"^sysctl\s+-w\s+(?<name>[A-Za-z0-9_.]+)=(?<value>-?\d+)$")]
    internal static partial Regex SysctlCommand();

    [GeneratedRegex(@"^sockstat\s+(?<args>[^|]*)\|(?<pipe>.*)$")]
    internal static partial Regex SockstatCommand();

    [GeneratedRegex(@"grep\s+-c\s+(?<state>[A-Z_0-9]+)\s*\|\s*grep\s+(?<count>\d+)\s*$")]
    internal static partial Regex CountPipe();

    [GeneratedRegex(@"^tcpdrop\s+-s\s+(?<state>[A-Z_0-9]+)$")]
    internal static partial Regex TcpdropCommand();

    [GeneratedRegex(@"^%\{\s*assert\s+(?<field>tcpi_[a-z_]+)\s*==\s*(?<value>[A-Za-z0-9_]+)\s*\}%$")]
    internal static partial Regex TcpInfoAssert();
}

/// <summary>One execution of one script.</summary>
internal sealed class ScriptRun
{
    private const ushort ScriptLocalPort = 8080;   // bind() and listen() in the scripts mean this port
    private const ushort ScriptRemotePort = 50000; // the script's end of a passive open
    private static readonly TimeSpan AnyTimeLimit = TimeSpan.FromSeconds(3600);

    private readonly PacketdrillScript _script;
    private readonly List<string> _notes = [];
    private readonly List<string> _transcript = [];
    private readonly Queue<(TimeSpan At, byte[] Bytes)> _sent = new();
    private readonly Dictionary<int, ScriptSocket> _fds = [];
    private readonly Dictionary<uint, uint> _tsVals = []; // script TS val -> live TS val
    private ConnectionOptions _options;
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

    public ScriptRun(PacketdrillScript script, ConnectionOptions profile)
    {
        _script = script;
        _options = profile;
    }

    public ScriptResult Execute(string displayPath)
    {
        try
        {
            ReadOptions();
            CheckSupported();
            Run();
            return new ScriptResult(displayPath, ScriptOutcome.Pass) { Notes = _notes, Transcript = _transcript };
        }
        catch (UnsupportedScriptException e)
        {
            return new ScriptResult(displayPath, ScriptOutcome.Unsupported, Reason: e.Message) { Notes = _notes, Transcript = _transcript };
        }
        catch (ScriptFailure f)
        {
            return new ScriptResult(displayPath, ScriptOutcome.Fail, f.Line, f.Expected, f.Actual, f.Reason) { Notes = _notes, Transcript = _transcript };
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException or InvalidOperationException or IndexOutOfRangeException or KeyNotFoundException)
        {
            // A line the checks above let through but the run could not make sense of: still a
            // failure of this script with its place, never a crash of the whole run.
            return new ScriptResult(displayPath, ScriptOutcome.Fail, _line, Reason: $"cannot run this line: {e.GetType().Name}: {e.Message}") { Notes = _notes, Transcript = _transcript };
        }
        finally
        {
            _stack?.Dispose();
        }
    }

    private void ReadOptions()
    {
        var o = _script.Options;
        // Our own scripts may name the profile they are written for (an option packetdrill does not have).
        if (o.TryGetValue("profile", out var profile))
        {
            _options = Profiles.Find(profile) ?? throw new ScriptFailure(0, $"unknown profile '{profile}' (known: {string.Join(", ", Profiles.Names)})");
        }
        if (o.ContainsKey("udp_encapsulation")) throw new UnsupportedScriptException("TCP over UDP encapsulation");
        _v6 = o.TryGetValue("ip_version", out var ipv) && ipv == "ipv6";
        if (o.TryGetValue("ip_version", out ipv) && ipv is not ("ipv4" or "ipv6"))
            throw new UnsupportedScriptException($"--ip_version={ipv} (IPv4-mapped IPv6 sockets)");
        long usecs = 4000;
        if (o.TryGetValue("tolerance_usecs", out var tol) && !long.TryParse(tol, NumberStyles.None, CultureInfo.InvariantCulture, out usecs))
            throw new ScriptFailure(0, $"--tolerance_usecs={tol} is not a number of microseconds");
        _tolerance = TimeSpan.FromMicroseconds(usecs);
        // Documentation addresses: nothing here leaves the process, but keep to the ranges anyway.
        _local = IpAddr.Parse(_v6 ? "2001:db8::1" : "192.0.2.1");
        _remote = IpAddr.Parse(_v6 ? "2001:db8::2" : "198.51.100.1");
    }

    /// <summary>Looks over the whole script first, so a script needing what is out of scope is reported as such, not as a failure halfway.</summary>
    private void CheckSupported()
    {
        foreach (var e in _script.Events)
        {
            try
            {
                switch (e.Kind)
                {
                    case EventKind.Inbound or EventKind.Outbound:
                        ScriptPacket.Parse(e.Text);
                        break;
                    case EventKind.SystemCall:
                        var call = ScriptSyscall.Parse(e.Text);
                        CheckCallSupported(call);
                        break;
                    case EventKind.Python:
                        if (!PacketdrillRunner.TcpInfoAssert().IsMatch(e.Text.Trim()))
                            throw new UnsupportedScriptException($"Python block other than 'assert tcpi_state == …': {e.Text.Trim()}");
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

    private static void CheckCallSupported(ScriptSyscall call)
    {
        switch (call.Name)
        {
            case "socket" or "bind" or "listen" or "accept" or "connect" or "read" or "write" or "send" or "recv"
                or "sendto" or "recvfrom" or "close" or "shutdown" or "fcntl" or "getsockopt" or "setsockopt":
                break;
            default:
                throw new UnsupportedScriptException($"system call {call.Name}()");
        }
        if (call.Name == "socket" && call.Args.Count > 1 && call.Args[1] != "SOCK_STREAM")
            throw new UnsupportedScriptException($"socket type {call.Args[1]}");
        if (call.Name == "sendto" && call.Args.Count > 3 && call.Args[3].Contains("MSG_FASTOPEN", StringComparison.Ordinal))
            throw new UnsupportedScriptException("TCP fast open (sendto with MSG_FASTOPEN)");
        if (call.Name is "setsockopt" or "getsockopt" && call.Args.Count >= 3)
        {
            switch (call.Args[2])
            {
                case "TCP_FASTOPEN": throw new UnsupportedScriptException("TCP fast open");
                case "TCP_MD5SIG": throw new UnsupportedScriptException("TCP MD5 signatures");
                case "TCP_REMOTE_UDP_ENCAPS_PORT": throw new UnsupportedScriptException("TCP over UDP encapsulation");
                case "IP_TOS" or "IPV6_TCLASS" or "IP_TTL" or "IPV6_UNICAST_HOPS": throw new UnsupportedScriptException($"IP header option {call.Args[2]}");
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
        foreach (var e in _script.Events)
        {
            _line = e.Line;
            TimeSpan? at = e.Time.Any ? null : (e.Time.Relative ? last : TimeSpan.Zero) + TimeSpan.FromSeconds(e.Time.Seconds);
            TimeSpan? end = e.Time.UpTo is double upTo ? (e.Time.Relative ? last : TimeSpan.Zero) + TimeSpan.FromSeconds(upTo) : null;
            if (e.Kind == EventKind.Outbound)
            {
                last = ExpectOutbound(e, at);
                continue;
            }
            var when = at ?? _now;
            if (when > _now) RunUntil(when, stopOnPacket: false);
            _transcript.Add($"{Seconds(when),-9} line {e.Line}: {e.Text.Split('\n')[0]}");
            CheckNothingUnexpected(e, when);
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
        if (_pending is { } p)
        {
            throw new ScriptFailure(p.Event.Line, "the system call never returned", p.Call.Text, "still blocked at the end of the script");
        }
        // What the last events caused may go unchecked, as in packetdrill; a packet no line could have matched may not.
        if (_sent.Count > 0 && _sent.Peek().At < last - _tolerance)
        {
            var (t, bytes) = _sent.Peek();
            var lastLine = _script.Events.Count > 0 ? _script.Events[^1].Line : 0;
            throw new ScriptFailure(lastLine, "unexpected packet", "nothing", Describe(bytes, t));
        }
    }

    /// <summary>Advances virtual time to <paramref name="until"/>, firing the stack's timers on the way.</summary>
    private void RunUntil(TimeSpan until, bool stopOnPacket)
    {
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
        if (_sent.Count == 0) return;
        var (t, bytes) = _sent.Peek();
        // A packet the script has not asked for yet is fine while a later line may still expect it
        // within the tolerance; one older than that cannot match any later line.
        if (t < when - _tolerance)
        {
            throw new ScriptFailure(e.Line, "unexpected packet before this line", e.Text, Describe(bytes, t));
        }
    }

    // ------------------------------------------------------------------ packets

    private TimeSpan ExpectOutbound(ScriptEvent e, TimeSpan? at)
    {
        var script = ScriptPacket.Parse(e.Text);
        var deadline = at is TimeSpan a ? a + _tolerance : _now + AnyTimeLimit;
        if (_sent.Count == 0) RunUntil(Max(deadline, _now), stopOnPacket: true);
        if (_sent.Count == 0)
        {
            throw new ScriptFailure(e.Line, "expected packet not sent", e.Text, $"nothing sent by {Seconds(deadline)}");
        }
        var (t, bytes) = _sent.Dequeue();
        _transcript.Add($"{Seconds(t),-9} line {e.Line}: {e.Text}");
        if (at is TimeSpan expected && (t < expected - _tolerance || t > expected + _tolerance))
        {
            throw new ScriptFailure(e.Line, $"packet sent at {Seconds(t)}, expected at {Seconds(expected)} (tolerance {_tolerance.TotalMilliseconds:0.###} ms)", e.Text, Describe(bytes, t));
        }
        var mismatch = Compare(script, bytes);
        if (mismatch is not null) throw new ScriptFailure(e.Line, mismatch, e.Text, Describe(bytes, t));
        return t;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000###", CultureInfo.InvariantCulture) + " s";

    private uint LocalOffset => unchecked(_liveLocalIsn - _scriptLocalIsn);

    /// <summary>Compares a sent packet with the script's; returns what differs, or null.</summary>
    private string? Compare(ScriptPacket s, byte[] bytes)
    {
        if (!TcpPacket.TryParse(bytes, out var ip, out var tcp, out var err)) return $"the stack sent a malformed packet ({err})";
        var payload = TcpPacket.Payload(bytes, ip, tcp);
        if ((s.Flags & TcpFlags.Syn) != 0 && !s.Absolute)
        {
            // Our ISN is ours to choose: the script's numbers are relative to it from here on.
            _liveLocalIsn = tcp.Seq.Value;
            _scriptLocalIsn = s.AnySequence ? 0 : s.Seq;
        }
        if (tcp.Flags != s.Flags) return $"flags {ScriptPacket.FlagText(tcp.Flags)} instead of {ScriptPacket.FlagText(s.Flags)}";
        uint seq = s.Absolute ? tcp.Seq.Value : unchecked(tcp.Seq.Value - LocalOffset);
        if (!s.AnySequence && seq != s.Seq) return $"sequence number {seq} instead of {s.Seq}";
        if (payload.Length != s.Length) return $"{payload.Length} bytes of data instead of {s.Length}";
        if (s.Ack is uint ack)
        {
            uint liveAck = tcp.Ack.Value;
            if (liveAck != ack) return $"ack {liveAck} instead of {ack}";
        }
        if (s.Window is ushort win && tcp.Window != win) return $"window {tcp.Window} instead of {win}";
        if (s.AnyOptions) return null;
        int optLen = tcp.HeaderLength - TcpHeader.MinLength;
        var ipLen = bytes.Length - payload.Length - tcp.HeaderLength;
        var live = ScriptPacket.ReadWireOptions(bytes.AsSpan(ipLen + TcpHeader.MinLength, optLen));
        var want = s.Options ?? [];
        string liveText = string.Join(",", live);
        string wantText = string.Join(",", want);
        if (live.Count != want.Count) return $"options <{liveText}> instead of <{wantText}>";
        for (int i = 0; i < want.Count; i++)
        {
            var w = want[i];
            var l = live[i];
            if (w.Kind != l.Kind) return $"options <{liveText}> instead of <{wantText}>";
            switch (w.Kind)
            {
                case TcpOptionKind.Mss or TcpOptionKind.WindowScale when w.A != l.A:
                    return $"options <{liveText}> instead of <{wantText}>";
                case TcpOptionKind.Timestamps:
                    // TS val is our clock: remember which live value the script calls what, for the ecr it sends back.
                    _tsVals[w.A] = l.A;
                    if (w.B != l.B) return $"TS ecr {l.B} instead of {w.B}";
                    break;
                case TcpOptionKind.Sack:
                    var wb = w.Blocks ?? [];
                    var lb = l.Blocks ?? [];
                    if (wb.Length != lb.Length || !wb.SequenceEqual(lb)) return $"options <{liveText}> instead of <{wantText}>";
                    break;
            }
        }
        return null;
    }

    private void Inject(ScriptEvent e)
    {
        var s = ScriptPacket.Parse(e.Text);
        if (s.AnySequence) throw new ScriptFailure(e.Line, "an injected packet needs a sequence number, not ...", e.Text);
        EnsureStack();
        var h = new TcpHeader
        {
            SourcePort = _remotePort,
            DestinationPort = _localPort,
            Seq = new SeqNum(s.Seq),
            Ack = new SeqNum(s.Ack is uint a ? (s.Absolute ? a : unchecked(a + LocalOffset)) : 0),
            Flags = s.Flags,
            Window = s.Window ?? 0,
        };
        Span<byte> opt = stackalloc byte[TcpOptions.MaxLength];
        int optLen = s.Options is { } list
            ? ScriptPacket.WriteOptions(opt, list, v => s.Absolute ? v : unchecked(v + LocalOffset), ecr => _tsVals.TryGetValue(ecr, out var live) ? live : ecr)
            : 0;
        if (optLen % 4 != 0) throw new ScriptFailure(e.Line, "options do not fill whole 32-bit words", e.Text);
        int tcpLen = TcpHeader.MinLength + optLen + s.Length;
        int ipLen = _v6 ? IpHeader.Ipv6Length : IpHeader.Ipv4MinLength;
        var packet = new byte[ipLen + tcpLen];
        IpHeader.Write(packet, _remote, _local, 6, tcpLen);
        var seg = packet.AsSpan(ipLen);
        BinaryPrimitives.WriteUInt16BigEndian(seg, h.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(seg[2..], h.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(seg[4..], h.Seq.Value);
        BinaryPrimitives.WriteUInt32BigEndian(seg[8..], h.Ack.Value);
        seg[12] = (byte)(((TcpHeader.MinLength + optLen) / 4) << 4);
        seg[13] = (byte)h.Flags;
        BinaryPrimitives.WriteUInt16BigEndian(seg[14..], h.Window);
        opt[..optLen].CopyTo(seg[TcpHeader.MinLength..]);
        // The payload is zeros; scripts give lengths, not bytes.
        InternetChecksum.FillTcp(_remote, _local, seg);
        _stack!.Receive(packet, _now);
    }

    /// <summary>A sent packet in the script's own notation, numbers relative as the script writes them.</summary>
    private string Describe(byte[] bytes, TimeSpan at)
    {
        if (!TcpPacket.TryParse(bytes, out var ip, out var tcp, out var err)) return $"malformed packet ({err})";
        var payload = TcpPacket.Payload(bytes, ip, tcp);
        uint seq = unchecked(tcp.Seq.Value - ((tcp.Flags & TcpFlags.Syn) != 0 && _liveLocalIsn == 0 ? 0 : LocalOffset));
        var text = $"{Seconds(at)} > {ScriptPacket.FlagText(tcp.Flags)} {seq}:{unchecked(seq + (uint)payload.Length)}({payload.Length})";
        if ((tcp.Flags & TcpFlags.Ack) != 0) text += $" ack {tcp.Ack.Value}";
        text += $" win {tcp.Window}";
        int ipLen = bytes.Length - payload.Length - tcp.HeaderLength;
        var opts = ScriptPacket.ReadWireOptions(bytes.AsSpan(ipLen + TcpHeader.MinLength, tcp.HeaderLength - TcpHeader.MinLength));
        if (opts.Count > 0) text += " <" + string.Join(",", opts) + ">";
        return text;
    }

    private void EnsureStack()
    {
        if (_stack is not null) return;
        _stack = new NetworkStack(new StackOptions
        {
            Name = "synack",
            Addresses = [_local],
            Connection = _options,
            // Fixed secrets: the same script gives the same run.
            Secret = new byte[32],
            EphemeralPortMin = 40000,
            EphemeralPortMax = 40999,
        });
        _stack.Output = new Capture(this);
        _stack.Advance(_now);
    }

    private sealed class Capture(ScriptRun run) : IPacketSink
    {
        public void Transmit(NetworkStack from, ReadOnlySpan<byte> packet)
        {
            var bytes = packet.ToArray();
            run._sent.Enqueue((run._now, bytes));
            run._transcript.Add("          sent " + run.Describe(bytes, run._now));
        }
    }

    // ------------------------------------------------------------------ commands and asserts

    private void Command(ScriptEvent e)
    {
        var cmd = e.Text.Trim('`').Trim();
        if (PacketdrillRunner.SysctlCommand().Match(cmd) is { Success: true } s)
        {
            if (_stack is not null) _notes.Add($"line {e.Line}: {cmd} after the stack started applies to sockets created from here on");
            _options = Sysctl.Apply(_options, s.Groups["name"].Value, long.Parse(s.Groups["value"].Value, CultureInfo.InvariantCulture), _notes);
            return;
        }
        if (PacketdrillRunner.TcpdropCommand().Match(cmd) is { Success: true } d)
        {
            if (d.Groups["state"].Value != "TIME_WAIT") throw new UnsupportedScriptException($"tcpdrop -s {d.Groups["state"].Value}");
            _stack?.DropTimeWait();
            return;
        }
        var m = PacketdrillRunner.SockstatCommand().Match(cmd);
        var c = PacketdrillRunner.CountPipe().Match(m.Groups["pipe"].Value);
        string state = c.Groups["state"].Value;
        int want = int.Parse(c.Groups["count"].Value, CultureInfo.InvariantCulture);
        var args = m.Groups["args"].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        int portIndex = Array.IndexOf(args, "-p");
        ushort? port = portIndex >= 0 && portIndex + 1 < args.Length ? ushort.Parse(args[portIndex + 1], CultureInfo.InvariantCulture) : null;
        var sockets = Sockstat(port);
        int have = sockets.Count(x => x.State == state);
        // `grep N` on the count passes when the count's digits contain N; a count of 0 vs 1 is what the suite asks.
        if (!have.ToString(CultureInfo.InvariantCulture).Contains(want.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal))
        {
            throw new ScriptFailure(e.Line, $"{have} sockets in {state}, the script expects {want}", cmd,
                sockets.Count == 0 ? "no sockets" : string.Join("; ", sockets.Select(x => $"{x.State} {x.Local}<->{x.Remote}")));
        }
    }

    /// <summary>
    /// What FreeBSD's sockstat would list: every socket with a file descriptor, connections the
    /// application has closed but TCP has not finished, connections waiting in a listener's queues,
    /// and TIME-WAIT.
    /// </summary>
    private List<(string State, string Local, string Remote)> Sockstat(ushort? port)
    {
        var list = new List<(string, string, string, ushort, ushort)>();
        var seen = new HashSet<FourTuple>();
        foreach (var sock in _fds.Values)
        {
            if (sock.Listener is { } l) list.Add(("LISTEN", $"*:{l.Port}", "*:*", l.Port, 0));
            else if (sock.Connection is { } sc)
            {
                var t = sc.Connection.Tuple;
                seen.Add(t);
                var st = _stack!.LookupState(t) ?? TcpState.Closed;
                if (sc.Detached && st != TcpState.TimeWait) st = TcpState.Closed;
                list.Add((BsdName(st), FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), t.LocalPort, t.RemotePort));
            }
            else list.Add(("CLOSED", "*:*", "*:*", sock.BoundPort ?? 0, 0));
        }
        if (_stack is not null)
        {
            foreach (var sc in _stack.Connections)
            {
                var t = sc.Connection.Tuple;
                if (!seen.Add(t)) continue;
                list.Add((BsdName(sc.Connection.State), FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), t.LocalPort, t.RemotePort));
            }
            foreach (var t in _stack.TimeWaitTuples)
            {
                if (!seen.Add(t)) continue;
                list.Add(("TIME_WAIT", FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), t.LocalPort, t.RemotePort));
            }
        }
        return [.. list.Where(x => port is null || x.Item4 == port || x.Item5 == port).Select(x => (x.Item1, x.Item2, x.Item3))];
    }

    private static string BsdName(TcpState s) => s switch
    {
        TcpState.Closed => "CLOSED",
        TcpState.Listen => "LISTEN",
        TcpState.SynSent => "SYN_SENT",
        TcpState.SynReceived => "SYN_RCVD",
        TcpState.Established => "ESTABLISHED",
        TcpState.FinWait1 => "FIN_WAIT_1",
        TcpState.FinWait2 => "FIN_WAIT_2",
        TcpState.CloseWait => "CLOSE_WAIT",
        TcpState.Closing => "CLOSING",
        TcpState.LastAck => "LAST_ACK",
        TcpState.TimeWait => "TIME_WAIT",
        _ => s.ToString(),
    };

    private static string TcpiName(TcpState s) => s switch
    {
        TcpState.SynReceived => "TCPI_SYN_RECEIVED",
        _ => "TCPI_" + BsdName(s),
    };

    private void Assert(ScriptEvent e)
    {
        var m = PacketdrillRunner.TcpInfoAssert().Match(e.Text.Trim());
        var sock = _current ?? throw new ScriptFailure(e.Line, "no socket to ask for tcp_info", e.Text);
        var state = sock.Connection is { } sc ? (_stack!.LookupState(sc.Connection.Tuple) ?? TcpState.Closed) : sock.Listener is not null ? TcpState.Listen : TcpState.Closed;
        if (sock.Connection is { Detached: true } && state != TcpState.TimeWait) state = TcpState.Closed;
        string field = m.Groups["field"].Value, want = m.Groups["value"].Value;
        string have;
        switch (field)
        {
            case "tcpi_state":
                have = TcpiName(state);
                break;
            case "tcpi_options":
                var c = sock.Connection?.Connection;
                int opts = c is null ? 0 : (c.TimestampsNegotiated ? 1 : 0) | (c.SackNegotiated ? 2 : 0) | (c.WindowScaleNegotiated ? 4 : 0);
                have = opts.ToString(CultureInfo.InvariantCulture);
                break;
            default:
                throw new UnsupportedScriptException($"tcp_info field {field}");
        }
        if (have != want) throw new ScriptFailure(e.Line, $"{field} is {have}", e.Text, have);
    }

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
                return () => Read(s, len, peek);
            }
            case "write" or "send" or "sendto":
            {
                var s = Socket(e, a);
                int len = a.Count > 2 ? int.Parse(a[2], CultureInfo.InvariantCulture) : 0;
                return () => Write(s, len);
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

    private (bool, long, string?) Read(ScriptSocket s, int len, bool peek)
    {
        if (s.Connection is not { } sc) return Fail("ENOTCONN");
        var c = sc.Connection;
        if (s.PendingError is { } err && c.ReceiveQueued == 0)
        {
            s.PendingError = null;
            return Fail(err);
        }
        if (c.State is TcpState.SynSent or TcpState.SynReceived)
        {
            return s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        }
        var buf = new byte[Math.Max(0, len)];
        if (peek)
        {
            int n = c.Peek(buf);
            if (n > 0 || c.PeerFinished || s.Failed || c.State == TcpState.Closed) return Ok(n);
            return s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        }
        int got = _stack!.Call(sc, conn => conn.Receive(buf, _now, out var e2) is var k && e2 == TcpError.WouldBlock ? -1 : k);
        if (got >= 0) return Ok(got);
        return s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked;
    }

    private (bool, long, string?) Write(ScriptSocket s, int len)
    {
        if (s.Connection is not { } sc) return Fail("ENOTCONN");
        if (s.PendingError is { } err)
        {
            s.PendingError = null;
            return Fail(err);
        }
        if (s.Failed || sc.Detached) return Fail("EPIPE");
        var c = sc.Connection;
        if (c.State is TcpState.SynSent or TcpState.SynReceived) return s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked;
        var data = new byte[len];
        var (n, error) = _stack!.Call(sc, conn => (conn.Send(data, _now, out var e2), e2));
        if (n > 0) return Ok(n);
        return error switch
        {
            TcpError.WouldBlock => s.NonBlocking ? Fail("EWOULDBLOCK") : Blocked,
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
                "SO_LINGER" => o,
                "TCP_KEEPINIT" => o with { ConnectionEstablishmentTimeout = TimeSpan.FromSeconds(v) },
                "TCP_NOOPT" => o with { WindowScaling = v == 0, Sack = v == 0, Timestamps = v == 0, SendMssOption = v == 0 },
                "TCP_FUNCTION_BLK" => o,
                _ => throw new UnsupportedScriptException($"setsockopt {name}"),
            };
            if (name == "SO_REUSEADDR") s.ReuseAddress = v != 0;
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
}
