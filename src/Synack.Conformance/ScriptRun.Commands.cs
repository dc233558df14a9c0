using System.Globalization;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

// Shell commands (sysctl, sockstat, tcpdrop) and tcp_info assertions.
internal sealed partial class ScriptRun
{
    // ------------------------------------------------------------------ commands and asserts

    private void Command(ScriptEvent e)
    {
        if (OnKernel)
        {
            KernelCommand(e);
            return;
        }
        if (_linux)
        {
            if (_stack is not null) _notes.Add($"line {e.Line}: a command after the stack started applies to sockets created from here on");
            _options = LinuxShell.Apply(e.Text, ScriptDirectory, _options, _notes, ref _savedOptions);
            return;
        }
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
            var socket = sock.Socket;
            if (socket.IsListening) list.Add(("LISTEN", $"*:{socket.BoundPort}", "*:*", socket.BoundPort ?? 0, 0));
            else if (socket.Tuple is { } t)
            {
                seen.Add(t);
                list.Add((BsdName(socket.State), FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), t.LocalPort, t.RemotePort));
            }
            else list.Add(("CLOSED", "*:*", "*:*", socket.BoundPort ?? 0, 0));
        }
        if (_stack is not null)
        {
            // Connections no descriptor holds (closed but draining, or in a listener's queues), then TIME-WAIT.
            foreach (var entry in _stack.Snapshot())
            {
                if (entry.Tuple is not { } t || !seen.Add(t)) continue;
                list.Add((BsdName(entry.State), FourTuple.Format(t.LocalAddress, t.LocalPort), FourTuple.Format(t.RemoteAddress, t.RemotePort), t.LocalPort, t.RemotePort));
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

    /// <summary>The tcp_info fields a Python block reads, as they are: what two stacks are compared on there.</summary>
    private void Observe(ScriptEvent e, PythonBlock block, Func<string, double> lookup)
    {
        var values = block.Names.Distinct().Where(n => n.StartsWith("tcpi_", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
            .Select(n => $"{n} = {PythonBlock.Format(lookup(n))}");
        _observed.Add(new ScriptObservation(e.Line, "tcp_info: " + string.Join(", ", values)));
    }

    /// <summary>A Python block: its asserts over the current socket's tcp_info, as it is now.</summary>
    private void Assert(ScriptEvent e)
    {
        var block = PythonBlock.Parse(e.Text);
        if (OnKernel)
        {
            var lookup = KernelTcpInfo();
            Observe(e, block, lookup);
            var shown = new List<string>();
            string? failure = block.Run(lookup, _pythonVariables, shown);
            foreach (var p in shown) _transcript.Add($"          print: {p}");
            if (failure is null) return;
            throw new ScriptFailure(e.Line, failure, e.Text.Trim(), string.Join(", ", block.Names.Distinct().Where(n => n.StartsWith("tcpi_", StringComparison.Ordinal))
                .Select(n => $"{n} = {PythonBlock.Format(lookup(n))}")));
        }
        var sock = _current;
        TcpInfo info = sock?.Socket.GetInfo() ?? new TcpInfo { State = TcpState.Closed };
        if (sock is { Socket.IsListening: true }) info = info with { Sacked = sock.ListenBacklog }; // the backlog asked, not the queue's size
        var printed = new List<string>();
        Observe(e, block, name => TcpInfoFields.Lookup(name, info));
        string? failed = block.Run(name => TcpInfoFields.Lookup(name, info), _pythonVariables, printed);
        foreach (var p in printed) _transcript.Add($"          print: {p}");
        if (failed is null) return;
        var values = block.Names.Distinct().Where(n => n.StartsWith("tcpi_", StringComparison.Ordinal))
            .Select(n =>
            {
                double v = TcpInfoFields.Lookup(n, info);
                return TcpInfoFields.ConstantName(v, n) is { } named ? $"{n} = {named}" : $"{n} = {PythonBlock.Format(v)}";
            });
        throw new ScriptFailure(e.Line, failed, e.Text.Trim(), string.Join(", ", values));
    }
}
