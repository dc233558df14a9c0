using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Stack;
using Synack.Tcp;

namespace Synack.Conformance;

// epoll on Synack's sockets: level- and edge-triggered, driven by the wake-ups Linux's sockets make.
internal sealed partial class ScriptRun
{
    private readonly Dictionary<int, ScriptEpoll> _epolls = [];

    private Func<(bool, long, string?)> SynackEpollCreate(ScriptSyscall call)
    {
        int fd = NewFd(call);
        _epolls[fd] = new ScriptEpoll(fd);
        return () => Ok(fd);
    }

    private Func<(bool, long, string?)> SynackEpollCtl(ScriptEvent e, ScriptSyscall call)
    {
        var ep = Descriptor(e, call.Args, _epolls);
        var a = call.Args;
        string op = a.Count > 1 ? a[1] : "";
        if (a.Count < 3 || !int.TryParse(a[2], NumberStyles.None, CultureInfo.InvariantCulture, out int fd))
            throw new ScriptFailure(e.Line, "epoll_ctl needs an operation and a descriptor", e.Text);
        var m = a.Count > 3 ? EpollEntry().Match(a[3]) : Match.Empty;
        uint events = m.Success ? Bits(m.Groups["events"].Value, EpollBits) : 0;
        if (op is not ("EPOLL_CTL_ADD" or "EPOLL_CTL_MOD" or "EPOLL_CTL_DEL")) throw new UnsupportedScriptException($"epoll_ctl {op}");
        return () =>
        {
            if (!_fds.ContainsKey(fd)) return Fail(_epolls.ContainsKey(fd) ? "EINVAL" : "EBADF"); // epoll in epoll: not here
            return op switch
            {
                "EPOLL_CTL_ADD" => ep.Add(fd, events, PollMask(fd)) ? Ok(0) : Fail("EEXIST"),
                "EPOLL_CTL_MOD" => ep.Modify(fd, events, PollMask(fd)) ? Ok(0) : Fail("ENOENT"),
                _ => ep.Remove(fd) ? Ok(0) : Fail("ENOENT"),
            };
        };
    }

    private Func<(bool, long, string?)> SynackEpollWait(ScriptEvent e, ScriptSyscall call)
    {
        var ep = Descriptor(e, call.Args, _epolls);
        var a = call.Args;
        var expected = a.Count > 1 ? EpollEntry().Matches(a[1]).Select(m => m.Groups["events"].Value).ToList() : [];
        int max = a.Count > 2 ? (int)ScriptSyscall.ParseNumber(a[2]) : 1;
        int timeoutMs = a.Count > 3 ? (int)ScriptSyscall.ParseNumber(a[3]) : -1;
        if (max <= 0) return () => Fail("EINVAL");
        var deadline = timeoutMs < 0 ? TimeSpan.MaxValue : _now + TimeSpan.FromMilliseconds(timeoutMs);
        return () =>
        {
            NoteWakeups();
            var reported = ep.Harvest(max, PollMask);
            if (reported.Count == 0 && _now < deadline) return Blocked;
            for (int i = 0; i < Math.Min(reported.Count, expected.Count); i++)
            {
                string got = Names(reported[i].Events, EpollBits);
                if (!SameEvents(expected[i], got))
                    throw new ScriptFailure(e.Line, $"epoll_wait() events were {got}", call.Text, $"events={got}");
            }
            return Ok(reported.Count);
        };
    }

    /// <summary>
    /// What tcp_poll reports for a descriptor, as epoll bits; like tcp_poll, it marks a socket that is not
    /// writable SOCK_NOSPACE, so the ACK that makes room wakes its waiters.
    /// </summary>
    private uint PollMask(int fd)
    {
        if (!_fds.TryGetValue(fd, out var s)) return 0;
        uint mask = 0;
        var names = Ready(fd, "POLLIN|POLLOUT");
        foreach (var name in names.Split('|'))
        {
            mask |= name switch { "POLLIN" => ScriptEpoll.In, "POLLOUT" => ScriptEpoll.Out, "POLLERR" => ScriptEpoll.Err, "POLLHUP" => ScriptEpoll.Hup, _ => 0u };
        }
        if (s.Socket.Protocol is { PeerFinished: true }) mask |= ScriptEpoll.RdHup;
        if ((mask & ScriptEpoll.Out) == 0 && s.Socket.Protocol is { State: TcpState.Established or TcpState.CloseWait }) s.NoSpace = true;
        return mask;
    }

    /// <summary>
    /// The wake-ups the last step made on each socket's wait queue, handed to every epoll watching it:
    /// new data or a new connection to accept (sk_data_ready, EPOLLIN), a state change or an error
    /// (every waiter), and room to write after a write found none (tcp_check_space: SOCK_NOSPACE set and
    /// the socket writable by sk_stream_write_space's measure, EPOLLOUT).
    /// </summary>
    private void NoteWakeups()
    {
        if (_epolls.Count == 0) return;
        foreach (var s in _fds.Values)
        {
            var sock = s.Socket;
            var c = sock.Protocol;
            uint key = 0;
            bool everyone = false;
            if (sock.IsListening)
            {
                bool acceptable = sock.Readiness.HasFlag(SocketReadiness.Readable);
                if (acceptable && !s.SeenAcceptable) key |= ScriptEpoll.In;
                s.SeenAcceptable = acceptable;
            }
            else if (c is not null)
            {
                if (c.State != s.SeenState || sock.Failed != s.SeenFailed) everyone = true;
                s.SeenState = c.State;
                s.SeenFailed = sock.Failed;
                if (c.ReceiveQueued > s.SeenQueued) key |= ScriptEpoll.In;
                s.SeenQueued = c.ReceiveQueued;
                if (s.NoSpace && c.State is TcpState.Established or TcpState.CloseWait && c.WriteSpaceAvailable)
                {
                    key |= ScriptEpoll.Out;
                    s.NoSpace = false;
                }
            }
            if (!everyone && key == 0) continue;
            foreach (var ep in _epolls.Values) ep.Wake(s.Fd, everyone ? 0 : key);
        }
    }
}
