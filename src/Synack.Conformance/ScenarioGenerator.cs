using System.Globalization;
using System.Text;

namespace Synack.Conformance;

/// <summary>
/// Makes a connection-management scenario from a seed: how the connection opens (passive, active,
/// simultaneous; every mix of MSS, window scale, SACK, timestamps and ECN; a SYN, SYN-ACK or final ACK
/// lost, duplicated or answered wrongly), what happens while it is open (data both ways, out of order
/// and duplicated, a segment lost, the window shut to zero and reopened, RST and SYN in and out of the
/// window, keep-alive) and how it ends (either side first, both at once, a combined FIN+ACK, RST, close
/// with unread data, half-close, TIME-WAIT reused by a new SYN). The peer is written to be
/// consistent with what a stack that behaves like Linux sends, so most lines mean what they say;
/// where the stack does something else, both targets' records show it.
/// </summary>
/// <remarks>
/// Every call is non-blocking (its result is recorded, <c>= ?</c>), so nothing waits on the
/// scheduling of a thread; times are absolute, in steps of 10 ms or more, far from the kernel's jiffy.
/// </remarks>
internal sealed class ScenarioGenerator
{
    private const int StackOwnMss = 1460; // tun0's MTU of 1500, IPv4
    private readonly Random _r;
    private readonly StringBuilder _sb = new();
    private readonly List<string> _family = [];
    private double _t;
    private bool _ts, _sack, _ws;
    private int _peerWindowShift; // the peer's window scale, when negotiated
    private int _stackMss;        // the stack's segment size towards the peer
    private uint _peerSeq = 1;    // the peer's next sequence number (relative)
    private uint _stackNxt = 1;   // what the stack has sent up to (relative), as a Linux-like stack would have
    private uint _peerTsVal = 1000;
    private bool _stackFin, _gone;
    private int _fd = -1;         // the connection's descriptor
    private int _listener = -1;
    private int _unread;          // bytes the peer sent that the application has not read

    private ScenarioGenerator(int seed) => _r = new Random(seed);

    public static GeneratedScenario Generate(int seed)
    {
        var g = new ScenarioGenerator(seed);
        g.Build();
        return new GeneratedScenario(seed, string.Join('/', g._family), $"// synack diff --seed {seed}: {string.Join(", ", g._family)}\n" + g._sb);
    }

    private bool Chance(double p) => _r.NextDouble() < p;

    private T Pick<T>(params T[] items) => items[_r.Next(items.Length)];

    private static string S(double t) => t.ToString("0.000", CultureInfo.InvariantCulture);

    private void Line(string text) => _sb.Append(S(_t)).Append(' ').Append(text).Append('\n');

    private void Wait(double seconds) => _t = Math.Round(_t + seconds, 3);

    private void Build()
    {
        bool stackTs = Chance(0.8), stackSack = Chance(0.85), stackWs = Chance(0.9);
        int ecn = Pick(0, 1, 2, 2);
        _sb.Append("--tolerance_usecs=10000\n");
        _sb.Append("`sysctl -q net.ipv4.tcp_rmem=\"4096 540000 15728640\" net.ipv4.tcp_wmem=\"4096 262144 4194304\"")
           .Append($" net.ipv4.tcp_timestamps={(stackTs ? 1 : 0)} net.ipv4.tcp_sack={(stackSack ? 1 : 0)} net.ipv4.tcp_window_scaling={(stackWs ? 1 : 0)}")
           .Append($" net.ipv4.tcp_dsack=1 net.ipv4.tcp_ecn={ecn} net.ipv4.tcp_syn_retries=5 net.ipv4.tcp_synack_retries=5 net.ipv4.tcp_retries2=3")
           .Append(" net.ipv4.tcp_frto=2 net.ipv4.tcp_congestion_control=cubic net.ipv4.tcp_slow_start_after_idle=0")
           .Append(" net.ipv4.tcp_early_retrans=4 net.ipv4.tcp_recovery=1 net.ipv4.tcp_syncookies=1\n")
           .Append("tc qdisc add dev tun0 root pfifo`\n");
        // The peer's SYN options: every mix Linux, BSD or a middlebox might send.
        int peerMss = Pick(536, 1000, 1200, 1460, 1460, 8960);
        bool peerTs = Chance(0.75), peerSack = Chance(0.75), peerWs = Chance(0.8);
        int peerShift = Pick(0, 2, 7, 7, 8, 14);
        _ts = stackTs && peerTs;
        _sack = stackSack && peerSack;
        _ws = stackWs && peerWs;
        _peerWindowShift = _ws ? peerShift : 0;
        _stackMss = Math.Min(peerMss, StackOwnMss) - (_ts ? 12 : 0);
        string options = SynOptions(peerMss, peerTs, peerSack, peerWs ? peerShift : null);
        _family.Add($"opts:{(peerTs ? "ts" : "")}{(peerSack ? "+sack" : "")}{(peerWs ? "+ws" : "")}{(ecn == 1 ? "+ecn1" : "")}");

        int kind = _r.Next(100);
        bool open = kind switch
        {
            < 55 => Passive(options),
            < 92 => Active(options),
            _ => Simultaneous(options),
        };
        if (open)
        {
            State();
            int actions = _r.Next(0, 4);
            for (int i = 0; i < actions && !_gone; i++) Action();
            if (!_gone) Close();
        }
        // The end: long enough for the last answers to come back on a live kernel.
        Wait(0.1);
        Line("%{ end = 1 }%");
    }

    private static string SynOptions(int mss, bool ts, bool sack, int? shift)
    {
        var o = new List<string> { $"mss {mss}" };
        if (sack && ts) o.Add("sackOK");
        else if (sack) o.AddRange(["nop", "nop", "sackOK"]);
        if (ts)
        {
            if (!sack) o.AddRange(["nop", "nop"]);
            o.Add("TS val {ts} ecr 0");
        }
        if (shift is int s) o.AddRange(["nop", $"wscale {s}"]);
        return "<" + string.Join(",", o) + ">";
    }

    private string Ts() => _ts ? $" <nop,nop,TS val {_peerTsVal += 10} ecr 0>" : "";

    private string SynWith(string options) => options.Replace("{ts}", (_peerTsVal += 10).ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    /// <summary>The peer's window field for a window of <paramref name="bytes"/>, scaled when scaling was agreed.</summary>
    private int Win(int bytes) => Math.Min(65535, bytes >> _peerWindowShift);

    private bool Passive(string options)
    {
        _family.Add("passive");
        _listener = 3;
        Line("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
        Line("setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0");
        Line("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        Line("bind(3, ..., ...) = 0");
        Line("listen(3, 1) = 0");
        Wait(0.01);
        bool ecnSyn = Chance(0.2);
        Line($"< {(ecnSyn ? "SEW" : "S")} 0:0(0) win {Pick(65535, 29200, 8192)} {SynWith(options)}");
        if (ecnSyn) _family.Add("ecn-syn");
        int variant = _r.Next(100);
        Wait(0.02);
        switch (variant)
        {
            case < 10:
                _family.Add("syn-duplicated");
                Line($"< {(ecnSyn ? "SEW" : "S")} 0:0(0) win 65535 {SynWith(options)}");
                Wait(0.02);
                break;
            case < 20:
                _family.Add("final-ack-lost");
                Wait(1.1); // the SYN-ACK comes again after the initial RTO
                break;
            case < 25:
                _family.Add("rst-for-syn-ack");
                Line("< R 1:1(0) win 0");
                Wait(0.02);
                Line("accept(3, ..., ...) = ?");
                return false;
            case < 30:
                _family.Add("bad-final-ack");
                Line($"< . 1:1(0) ack {Pick(0u, 2u, 1000u)} win {Win(65535)}{Ts()}");
                Wait(0.02);
                break;
        }
        if (Chance(0.15))
        {
            _family.Add("data-with-final-ack");
            Line($"< P. 1:101(100) ack 1 win {Win(65535)}{Ts()}");
            _peerSeq = 101;
            _unread = 100;
        }
        else
        {
            Line($"< . 1:1(0) ack 1 win {Win(65535)}{Ts()}");
        }
        Wait(0.01);
        Line("accept(3, ..., ...) = 4");
        Line("fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        _fd = 4;
        return true;
    }

    private bool Active(string options)
    {
        _family.Add("active");
        Line("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
        Line("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        Line("connect(3, ..., ...) = ?");
        _fd = 3;
        Wait(0.02);
        int variant = _r.Next(100);
        string synAck = $"< S. 0:0(0) ack 1 win {Pick(65535, 29200, 8192)} {SynWith(options)}";
        switch (variant)
        {
            case < 10:
                _family.Add("syn-ack-lost");
                Wait(1.1); // the SYN again after the initial RTO
                break;
            case < 18:
                _family.Add("syn-refused");
                Line("< R. 0:0(0) ack 1 win 0");
                Wait(0.02);
                Line("write(3, ..., 100) = ?");
                Line("read(3, ..., 100) = ?");
                _gone = true;
                return false;
            case < 25:
                _family.Add("syn-ack-bad-ack");
                Line($"< S. 0:0(0) ack {Pick(0u, 2u, 5000u)} win 65535 {SynWith(options)}");
                Wait(0.02);
                break;
            case < 30:
                _family.Add("rst-without-ack-in-syn-sent");
                Line("< R 0:0(0) win 0"); // no ACK: in SYN-SENT a RST must acknowledge the SYN, so this one is ignored
                Wait(0.02);
                break;
        }
        Line(synAck);
        if (Chance(0.1))
        {
            _family.Add("syn-ack-duplicated");
            Wait(0.02);
            Line(synAck);
        }
        Wait(0.01);
        return true;
    }

    private bool Simultaneous(string options)
    {
        _family.Add("simultaneous-open");
        Line("socket(..., SOCK_STREAM, IPPROTO_TCP) = 3");
        Line("fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0");
        Line("connect(3, ..., ...) = ?");
        _fd = 3;
        Wait(0.02);
        Line($"< S 0:0(0) win 65535 {SynWith(options)}"); // the peer's own SYN crosses ours
        Wait(0.02);
        Line($"< S. 0:0(0) ack 1 win 65535 {SynWith(options)}");
        Wait(0.02);
        return true;
    }

    private void State() => Line("%{ print(tcpi_state) }%");

    private void Action()
    {
        switch (_r.Next(100))
        {
            case < 22: PeerData(); break;
            case < 32: PeerDataOutOfOrder(); break;
            case < 55: AppWrite(); break;
            case < 63: AppWriteSegmentLost(); break;
            case < 71: ZeroWindow(); break;
            case < 89: Blind(); break;
            case < 96: KeepAlive(); break;
            default: GiveUp(); break;
        }
    }

    private void PeerData()
    {
        int n = Pick(1, 100, 500, 1000);
        bool dup = Chance(0.2);
        _family.Add(dup ? "data-in-dup" : "data-in");
        string seg = $"< P. {_peerSeq}:{_peerSeq + (uint)n}({n}) ack {_stackNxt} win {Win(65535)}";
        Line(seg + Ts());
        if (dup)
        {
            Wait(0.01);
            Line(seg + Ts());
        }
        _peerSeq += (uint)n;
        _unread += n;
        Wait(Pick(0.01, 0.05, 0.1));
        if (Chance(0.8)) Read();
        State();
    }

    private void PeerDataOutOfOrder()
    {
        _family.Add("data-in-reordered");
        int a = Pick(100, 500, 1000), b = Pick(100, 500, 1000);
        Line($"< P. {_peerSeq + (uint)a}:{_peerSeq + (uint)(a + b)}({b}) ack {_stackNxt} win {Win(65535)}{Ts()}");
        Wait(0.01);
        Line($"< . {_peerSeq}:{_peerSeq + (uint)a}({a}) ack {_stackNxt} win {Win(65535)}{Ts()}");
        _peerSeq += (uint)(a + b);
        _unread += a + b;
        Wait(0.05);
        Read();
    }

    private void Read()
    {
        Line($"read({_fd}, ..., 65536) = ?");
        _unread = 0;
    }

    private int WriteSize() => Pick(1, 100, _stackMss, 2 * _stackMss, 3 * _stackMss + 7);

    private void AppWrite()
    {
        int n = WriteSize();
        _family.Add("data-out");
        Line($"write({_fd}, ..., {n}) = ?");
        _stackNxt += (uint)n;
        Wait(Pick(0.01, 0.02, 0.05));
        if (n > _stackMss && Chance(0.4))
        {
            _family.Add("partial-ack");
            Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt - (uint)n + (uint)_stackMss} win {Win(65535)}{Ts()}");
            Wait(0.01);
        }
        Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
        Wait(0.01);
    }

    private void AppWriteSegmentLost()
    {
        int segments = Pick(1, 4);
        int n = segments * _stackMss;
        _family.Add(segments == 1 ? "data-out-tail-lost" : "data-out-first-lost");
        Line($"write({_fd}, ..., {n}) = ?");
        uint start = _stackNxt;
        _stackNxt += (uint)n;
        Wait(0.02);
        if (segments > 1 && _sack)
        {
            // The first segment is lost: each later one brings a duplicate ACK with its SACK block.
            for (int i = 2; i <= segments; i++)
            {
                uint from = start + (uint)(_stackMss * (i - 1));
                string ts = _ts ? $"nop,nop,TS val {_peerTsVal += 10} ecr 0," : "";
                Line($"< . {_peerSeq}:{_peerSeq}(0) ack {start} win {Win(65535)} <{ts}nop,nop,sack {from}:{from + (uint)_stackMss}>");
            }
            Wait(0.05);
        }
        else
        {
            Wait(Pick(0.3, 0.6)); // the tail probe or the RTO brings it again
        }
        Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
        Wait(0.02);
    }

    private void ZeroWindow()
    {
        _family.Add("zero-window");
        int n = Pick(100, _stackMss);
        Line($"write({_fd}, ..., {n}) = ?");
        _stackNxt += (uint)n;
        Wait(0.02);
        Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win 0{Ts()}");
        Wait(0.01);
        Line($"write({_fd}, ..., 200) = ?");
        Wait(Pick(0.3, 0.7)); // persist probes
        Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
        _stackNxt += 200;
        Wait(0.02);
        Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
        Wait(0.01);
    }

    /// <summary>RFC 5961's cases: a RST or SYN exactly at, inside, or outside the window; an ACK for data never sent.</summary>
    private void Blind()
    {
        int which = _r.Next(6);
        switch (which)
        {
            case 0:
                _family.Add("rst-exact");
                Line($"< R. {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win 0");
                _gone = true;
                Wait(0.02);
                Line($"read({_fd}, ..., 1000) = ?");
                Line($"write({_fd}, ..., 10) = ?");
                Line($"close({_fd}) = ?");
                return;
            case 1:
                _family.Add("rst-in-window");
                uint inside = _peerSeq + (uint)Pick(1, 100, 5000);
                Line($"< R. {inside}:{inside}(0) ack {_stackNxt} win 0");
                break;
            case 2:
                _family.Add("rst-out-of-window");
                Line($"< R. {_peerSeq + 10_000_000}:{_peerSeq + 10_000_000}(0) ack {_stackNxt} win 0");
                break;
            case 3:
                _family.Add("syn-in-established");
                Line($"< S 0:0(0) win 65535 <mss 1460>");
                break;
            case 4:
                _family.Add("ack-of-unsent");
                Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt + 50_000} win {Win(65535)}{Ts()}");
                break;
            default:
                _family.Add("data-out-of-window");
                Line($"< . {_peerSeq + 2_000_000}:{_peerSeq + 2_000_100}(100) ack {_stackNxt} win {Win(65535)}{Ts()}");
                break;
        }
        Wait(0.02);
        State();
    }

    /// <summary>
    /// Data nobody acknowledges: the connection gives up, by its user timeout (TCP_USER_TIMEOUT) or by
    /// running out of retransmissions (tcp_retries2, 3 in these scenarios: about three seconds).
    /// </summary>
    private void GiveUp()
    {
        int n = Pick(100, _stackMss);
        if (Chance(0.5))
        {
            _family.Add("user-timeout");
            Line($"setsockopt({_fd}, IPPROTO_TCP, TCP_USER_TIMEOUT, [{Pick(500, 900)}], 4) = 0");
            Line($"write({_fd}, ..., {n}) = ?");
            Wait(1.4);
        }
        else
        {
            _family.Add("retries-exhausted");
            Line($"write({_fd}, ..., {n}) = ?");
            Wait(3.6);
        }
        Line($"read({_fd}, ..., 1000) = ?");
        Line($"write({_fd}, ..., 10) = ?");
        _gone = true;
    }

    private void KeepAlive()
    {
        _family.Add("keepalive");
        Line($"setsockopt({_fd}, SOL_SOCKET, SO_KEEPALIVE, [1], 4) = 0");
        Line($"setsockopt({_fd}, IPPROTO_TCP, TCP_KEEPIDLE, [1], 4) = 0");
        Line($"setsockopt({_fd}, IPPROTO_TCP, TCP_KEEPINTVL, [1], 4) = 0");
        Line($"setsockopt({_fd}, IPPROTO_TCP, TCP_KEEPCNT, [2], 4) = 0");
        Wait(1.05); // the first probe at 1 s of idle
        if (Chance(0.5))
        {
            Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
            Wait(0.02);
            State();
        }
        else
        {
            _family.Add("unanswered");
            Wait(2.2); // a second probe at 2 s, then at 3 s the connection is given up with a RST
            Line($"read({_fd}, ..., 1000) = ?");
            _gone = true;
        }
    }

    private void Close()
    {
        switch (_r.Next(100))
        {
            case < 22:
                _family.Add("app-closes-first");
                AppClose();
                Wait(0.02);
                Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
                Wait(Pick(0.02, 0.1));
                PeerFin(ack: _stackNxt);
                if (_listener >= 0 && Chance(0.3))
                {
                    // TIME-WAIT: the same peer opens again with a higher sequence number.
                    _family.Add("time-wait-new-syn");
                    Wait(0.05);
                    Line($"< S {_peerSeq + 100_000}:{_peerSeq + 100_000}(0) win 65535 <mss 1460>");
                    Wait(0.02);
                }
                break;
            case < 44:
                _family.Add("peer-closes-first");
                PeerFin(ack: _stackNxt);
                Wait(0.02);
                Line($"read({_fd}, ..., 65536) = ?");
                _unread = 0;
                State();
                Wait(Pick(0.01, 0.1));
                AppClose();
                Wait(0.02);
                Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
                break;
            case < 56:
                _family.Add("simultaneous-close");
                AppClose();
                PeerFin(ack: _stackNxt - 1); // the peer's FIN crosses ours: it does not acknowledge it
                Wait(0.02);
                Line($"< . {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win {Win(65535)}{Ts()}");
                break;
            case < 68:
                _family.Add("combined-fin-ack");
                AppClose();
                Wait(0.02);
                PeerFin(ack: _stackNxt);
                break;
            case < 76:
                _family.Add("close-with-unread-data");
                if (_unread == 0)
                {
                    Line($"< P. {_peerSeq}:{_peerSeq + 50}(50) ack {_stackNxt} win {Win(65535)}{Ts()}");
                    _peerSeq += 50;
                    Wait(0.02);
                }
                AppClose();
                _gone = true;
                break;
            case < 84:
                _family.Add("half-close");
                ShutdownThenPeerData("SHUT_WR", 300);
                Line($"read({_fd}, ..., 65536) = ?");
                State();
                PeerFin(ack: _stackNxt);
                Wait(0.02);
                Line($"read({_fd}, ..., 65536) = ?");
                AppClose();
                break;
            case < 92:
                _family.Add("peer-resets");
                Line($"< R. {_peerSeq}:{_peerSeq}(0) ack {_stackNxt} win 0");
                Wait(0.02);
                Line($"read({_fd}, ..., 1000) = ?");
                AppClose();
                break;
            case < 96:
                // Both sides shut (SHUT_RDWR), then the peer sends more: Linux resets (RCV_SHUTDOWN in
                // FIN-WAIT), FreeBSD would take it.
                _family.Add("shutdown-both-then-data");
                ShutdownThenPeerData("SHUT_RDWR", 10);
                Line($"read({_fd}, ..., 1000) = ?");
                _gone = true;
                break;
            default:
                _family.Add("left-open");
                break;
        }
    }

    /// <summary>shutdown() (our FIN goes), then the peer sends <paramref name="bytes"/> acknowledging it.</summary>
    private void ShutdownThenPeerData(string how, int bytes)
    {
        Line($"shutdown({_fd}, {how}) = ?");
        _stackFin = true;
        _stackNxt++;
        Wait(0.02);
        Line($"< P. {_peerSeq}:{_peerSeq + (uint)bytes}({bytes}) ack {_stackNxt} win {Win(65535)}{Ts()}");
        _peerSeq += (uint)bytes;
        Wait(0.02);
    }

    private void AppClose()
    {
        Line($"close({_fd}) = ?");
        if (!_stackFin)
        {
            _stackFin = true;
            _stackNxt++;
        }
    }

    private void PeerFin(uint ack)
    {
        Line($"< F. {_peerSeq}:{_peerSeq}(0) ack {ack} win {Win(65535)}{Ts()}");
        _peerSeq++;
    }
}
