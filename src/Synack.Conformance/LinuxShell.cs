using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>
/// The shell lines Google's Linux scripts run before (and sometimes during) a test: their
/// <c>common/defaults.sh</c>, <c>sysctl -q net.ipv4.…=…</c>, <c>set_sysctls.py /proc/sys/net/ipv4/…=…</c>,
/// and housekeeping (<c>ip tcp_metrics flush</c>, a plain <c>tc qdisc … pfifo</c>). Each sysctl maps
/// onto a <see cref="ConnectionOptions"/> setting; one the stack has no counterpart for is noted when
/// it asks for nothing the script depends on, and makes the script unsupported when it does.
/// </summary>
internal static partial class LinuxShell
{
    /// <summary>Does this command belong to the Linux dialect (so the script starts from the Linux profile)?</summary>
    public static bool IsLinux(string command) =>
        command.Contains("defaults.sh", StringComparison.Ordinal) || command.Contains("net.ipv4.", StringComparison.Ordinal)
        || command.Contains("/proc/sys/net/ipv4/", StringComparison.Ordinal);

    /// <summary>Runs one backquoted command (possibly several lines) against <paramref name="o"/>.</summary>
    /// <param name="scriptDirectory">Where the script is: defaults.sh is found relative to it.</param>
    /// <param name="saved">The options before the first set_sysctls.py, which the restore script puts back.</param>
    public static ConnectionOptions Apply(string command, string scriptDirectory, ConnectionOptions o, List<string> notes, ref ConnectionOptions? saved, int depth = 0)
    {
        foreach (var line in Lines(command))
        {
            var words = Words(line);
            if (words.Count == 0) continue;
            string program = words[0];
            if (program.EndsWith("common/defaults.sh", StringComparison.Ordinal))
            {
                var file = Path.GetFullPath(Path.Combine(scriptDirectory, program));
                if (!File.Exists(file))
                {
                    // The scripts' own copy of Linux's defaults; without it the script cannot say what it assumes.
                    throw new UnsupportedScriptException($"{program} not found (looked for {file})");
                }
                if (depth > 2) throw new UnsupportedScriptException($"{program} runs itself");
                o = Apply(File.ReadAllText(file), Path.GetDirectoryName(file)!, o, notes, ref saved, depth + 1);
                continue;
            }
            switch (program)
            {
                case "sysctl":
                    foreach (var w in words.Skip(1))
                    {
                        if (w.StartsWith('-')) continue; // -q, -w
                        o = Set(o, w, notes);
                    }
                    break;
                case var p when p.EndsWith("set_sysctls.py", StringComparison.Ordinal):
                    saved ??= o;
                    foreach (var w in words.Skip(1))
                    {
                        const string Proc = "/proc/sys/";
                        if (!w.StartsWith(Proc, StringComparison.Ordinal)) throw new UnsupportedScriptException($"set_sysctls.py {w}");
                        o = Set(o, w[Proc.Length..].Replace('/', '.'), notes);
                    }
                    break;
                case var p when p.StartsWith("/tmp/sysctl_restore_", StringComparison.Ordinal):
                    if (saved is not null) o = saved;
                    notes.Add("sysctl_restore: the settings before set_sysctls.py are back (for sockets made from here on)");
                    break;
                case "ip" when words.Count >= 3 && words[1] == "tcp_metrics" && words[2] == "flush":
                    notes.Add("ip tcp_metrics flush: the stack keeps no metrics cache");
                    break;
                case "tc" when words.Contains("qdisc") && words[^1] == "pfifo":
                    notes.Add($"{line}: a plain FIFO is what the script's link is");
                    break;
                default:
                    throw new UnsupportedScriptException($"shell command: {line}");
            }
        }
        return o;
    }

    /// <summary>Lines with backslash continuations joined, comments, redirections and `|| true` removed.</summary>
    private static IEnumerable<string> Lines(string command)
    {
        var text = command.Trim().Trim('`').Replace("\\\r\n", " ", StringComparison.Ordinal).Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#') || line.StartsWith("#!", StringComparison.Ordinal)) continue;
            int hash = line.IndexOf(" #", StringComparison.Ordinal);
            if (hash >= 0) line = line[..hash].Trim();
            foreach (var part in line.Split(';'))
            {
                var p = Redirection().Replace(part, "").Trim();
                if (p.EndsWith("|| true", StringComparison.Ordinal)) p = p[..^7].Trim();
                if (p.Length > 0) yield return p;
            }
        }
    }

    [GeneratedRegex(@"\s*[0-9]?>\s*&?\s*(/dev/null|[0-9])")]
    private static partial Regex Redirection();

    /// <summary>Shell words: double-quoted spans kept whole (tcp_rmem="4096 540000 …").</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        bool quoted = false;
        foreach (char c in line)
        {
            if (c == '"') { quoted = !quoted; continue; }
            if (char.IsWhiteSpace(c) && !quoted)
            {
                if (current.Length > 0) words.Add(current.ToString());
                current.Clear();
                continue;
            }
            current.Append(c);
        }
        if (current.Length > 0) words.Add(current.ToString());
        return words;
    }

    private static ConnectionOptions Set(ConnectionOptions o, string assignment, List<string> notes)
    {
        int eq = assignment.IndexOf('=');
        if (eq < 0) throw new UnsupportedScriptException($"sysctl {assignment} (reading a value)");
        string name = assignment[..eq];
        string raw = assignment[(eq + 1)..].Trim('"', '\'');
        var values = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Select(Arithmetic).ToArray();
        return Map(o, name, raw, values, notes);
    }

    /// <summary>A number, or shell arithmetic of products and sums: $((15*1024*1024)).</summary>
    private static long Arithmetic(string s)
    {
        if (s.StartsWith("$((", StringComparison.Ordinal) && s.EndsWith("))", StringComparison.Ordinal)) s = s[3..^2];
        long sum = 0;
        foreach (var term in s.Split('+'))
        {
            long product = 1;
            foreach (var factor in term.Split('*'))
            {
                var f = factor.Trim();
                product *= f.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
                    ? long.Parse(f[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
                    : long.TryParse(f, NumberStyles.Integer, CultureInfo.InvariantCulture, out long v) ? v : long.MinValue;
                if (product == long.MinValue) return long.MinValue; // not a number: a name (cubic) or a key
            }
            sum += product;
        }
        return sum;
    }

    private static ConnectionOptions Map(ConnectionOptions o, string name, string raw, long[] v, List<string> notes)
    {
        long one = v.Length > 0 ? v[0] : 0;
        string setting = $"{name}={raw}";
        switch (name)
        {
            case "net.ipv4.tcp_rmem":
                {
                    if (v.Length != 3) throw new UnsupportedScriptException($"{setting}: three numbers expected");
                    // The default is the buffer a socket starts with; the maximum is what the window scale must cover.
                    byte ws = 0;
                    while (ws < 14 && (65535L << ws) < v[2]) ws++;
                    return o with { ReceiveBufferSize = (int)v[1], WindowScale = ws };
                }
            case "net.ipv4.tcp_wmem":
                if (v.Length != 3) throw new UnsupportedScriptException($"{setting}: three numbers expected");
                return o with { SendBufferSize = (int)v[1], SendBufferMax = o.SendBufferLikeLinux ? (int)v[2] : o.SendBufferMax };
            case "net.ipv4.tcp_timestamps":
                return o with { Timestamps = one != 0 };
            case "net.ipv4.tcp_window_scaling":
                return o with { WindowScaling = one != 0 };
            case "net.ipv4.tcp_sack":
                return o with { Sack = one != 0 };
            case "net.ipv4.tcp_dsack":
                return o with { DuplicateSack = one != 0 };
            case "net.ipv4.tcp_syn_retries":
                return o with { SynRetries = (int)one };
            case "net.ipv4.tcp_synack_retries":
                return o with { SynAckRetries = (int)one };
            case "net.ipv4.tcp_retries2":
                return o with { DataRetries = (int)one };
            case "net.ipv4.tcp_slow_start_after_idle":
                return o with { SlowStartAfterIdle = one != 0 };
            case "net.ipv4.tcp_congestion_control":
                return raw switch
                {
                    "cubic" => o with { CongestionControl = CongestionControlAlgorithm.Cubic },
                    "reno" => o with { CongestionControl = CongestionControlAlgorithm.NewReno },
                    _ => throw new UnsupportedScriptException($"congestion control {raw}"),
                };
            case "net.ipv4.tcp_early_retrans":
                // 3 and 4 turn the tail loss probe on (Linux 4.10+); 0 turns it off.
                return o with { TailLossProbe = one >= 3 };
            case "net.ipv4.tcp_ecn":
                return o with { Ecn = one switch { 0 => EcnMode.Off, 1 => EcnMode.Request, _ => EcnMode.Accept } };
            case "net.ipv4.tcp_reordering":
                if (one != 3) throw new UnsupportedScriptException($"{setting}: the duplicate-ACK threshold is 3 here");
                return o;
            case "net.ipv4.tcp_keepalive_time":
                return o with { KeepAliveIdle = TimeSpan.FromSeconds(one) };
            case "net.ipv4.tcp_keepalive_intvl":
                return o with { KeepAliveInterval = TimeSpan.FromSeconds(one) };
            case "net.ipv4.tcp_keepalive_probes":
                return o with { KeepAliveCount = (int)one };
            case "net.ipv4.tcp_syn_linear_timeouts":
                return o with { SynLinearTimeouts = (int)one };
            case "net.ipv4.tcp_fin_timeout":
                return o with { FinWait2Timeout = TimeSpan.FromSeconds(one) };
            case "net.ipv4.tcp_rfc1337":
                return o with { IgnoreRstInTimeWait = one != 0 };
            case "net.ipv4.tcp_recovery":
                // Bit 0 is RACK; the others (no duplicate-ACK threshold, static reordering window) are not here.
                if ((one & ~1L) != 0) notes.Add($"{setting}: only RACK itself (bit 0) has a counterpart here");
                return o with { Rack = (one & 1) != 0 };
            case "net.ipv4.tcp_frto":
                // 1 and 2 differ only in the SACK-enhanced variant, which is not here: both are the basic algorithm.
                return o with { ForwardRtoRecovery = one != 0 };
            case "net.ipv4.tcp_fack":
                if (one != 0) notes.Add($"{setting}: FACK (gone from Linux since 4.15) is not implemented");
                return o;
            case "net.ipv4.tcp_min_tso_segs":
                return o with { MinTsoSegments = (int)Math.Clamp(one, 1, 255) };
            case "net.ipv4.tcp_tso_win_divisor":
                notes.Add($"{setting}: the stack does not defer sending to build TSO packets");
                return o;
            case "net.ipv4.tcp_pacing_ss_ratio" or "net.ipv4.tcp_pacing_ca_ratio":
                notes.Add($"{setting}: the stack does not pace");
                return o;
            case "net.ipv4.tcp_notsent_lowat":
                return o with { NotSentLowWater = one is > 0 and < int.MaxValue ? (int)one : null };
            case "net.ipv4.tcp_ecn_option":
                notes.Add($"{setting}: the accurate-ECN option is not implemented (classic ECN only)");
                return o;
            case "net.ipv4.tcp_fastopen" or "net.ipv4.tcp_fastopen_key":
                notes.Add($"{setting}: TCP fast open is not implemented; a script that uses it is unsupported");
                return o;
            case "net.ipv4.tcp_orphan_retries":
                return o with { OrphanRetries = one == 0 ? 8 : (int)one };
            case "net.ipv4.tcp_syncookies":
                return o with { SynCookies = one switch { 0 => SynCookieMode.Off, 1 => SynCookieMode.WhenNeeded, _ => SynCookieMode.Always } };
            default:
                notes.Add($"{setting}: unknown setting, ignored");
                return o;
        }
    }
}
