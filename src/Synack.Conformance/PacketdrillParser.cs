using System.Globalization;
using System.Text.RegularExpressions;

namespace Synack.Conformance;

/// <summary>
/// Reads packetdrill scripts as extended by the nplab fork (#ifdef with a set of defined symbols,
/// `...(0)`, `!`). It checks the shape of every line; what an event means is the runner's business.
/// </summary>
public static partial class PacketdrillParser
{
    // Both dialects: `0.1`, `+.1`, `+0...0.200` (a blocking call and when it returns), `+.3~+.4` (a window).
    [GeneratedRegex(@"^(?<rel>\+\s*)?(?<t>[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:\s*~\s*(?<lrel>\+)?\s*(?<latest>[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?(?:\s*\.\.\.\s*(?<to>[0-9]+(?:\.[0-9]*)?|\.[0-9]+))?\s+(?<rest>.*)$")]
    private static partial Regex TimedLine();

    /// <summary>Parses the script at <paramref name="path"/>; <paramref name="defined"/> names the symbols its <c>#ifdef</c>s see.</summary>
    public static PacketdrillScript ParseFile(string path, IReadOnlySet<string>? defined = null) =>
        Parse(File.ReadAllText(path), path, defined);

    /// <summary>Parses script text; <paramref name="path"/> names it in errors.</summary>
    public static PacketdrillScript Parse(string text, string path, IReadOnlySet<string>? defined = null)
    {
        defined ??= new HashSet<string> { "STANDARD" };
        var options = new Dictionary<string, string>();
        var events = new List<ScriptEvent>();
        var lines = text.Replace("\r\n", "\n").Split('\n');
        var active = new Stack<(bool Taking, bool Seen)>(); // #ifdef nesting: are we taking lines, has a branch been taken
        bool Taking() => active.All(a => a.Taking);
        for (int i = 0; i < lines.Length; i++)
        {
            int lineNo = i + 1;
            string raw = lines[i];
            string line = StripComment(raw).Trim();
            if (line.Length == 0) continue;
            if (line.StartsWith('#'))
            {
                var parts = line.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                switch (parts[0])
                {
                    case "#ifdef" when parts.Length == 2:
                        bool on = defined.Contains(parts[1]);
                        active.Push((on, on));
                        break;
                    case "#ifndef" when parts.Length == 2:
                        bool off = !defined.Contains(parts[1]);
                        active.Push((off, off));
                        break;
                    case "#else":
                        if (active.Count == 0) throw new ScriptParseException(path, lineNo, "#else without #ifdef");
                        var top = active.Pop();
                        active.Push((!top.Seen, true));
                        break;
                    case "#endif":
                        if (active.Count == 0) throw new ScriptParseException(path, lineNo, "#endif without #ifdef");
                        active.Pop();
                        break;
                    default:
                        throw new ScriptParseException(path, lineNo, $"unknown directive '{parts[0]}'");
                }
                continue;
            }
            if (!Taking()) continue;
            if (line.StartsWith("--", StringComparison.Ordinal))
            {
                int eq = line.IndexOf('=');
                // `--strict_segments` is a flag; `--mss=1000` has a value.
                if (eq < 0) options[line[2..]] = "";
                else options[line[2..eq]] = line[(eq + 1)..];
                continue;
            }
            EventTime time;
            string rest;
            if (line.StartsWith('`'))
            {
                // A command without a time runs before everything else (packetdrill's init commands).
                time = new EventTime(false, false, 0, null);
                rest = line;
            }
            else if (line.StartsWith('*'))
            {
                time = new EventTime(false, true, 0, null);
                rest = line[1..].Trim();
            }
            else
            {
                var m = TimedLine().Match(line);
                if (!m.Success) throw new ScriptParseException(path, lineNo, $"expected a time, found '{Shorten(line)}'");
                time = new EventTime(m.Groups["rel"].Success, false, Seconds(m.Groups["t"].Value),
                    m.Groups["to"].Success ? Seconds(m.Groups["to"].Value) : null,
                    m.Groups["latest"].Success ? Seconds(m.Groups["latest"].Value) : null,
                    m.Groups["lrel"].Success);
                rest = m.Groups["rest"].Value.Trim();
            }
            // A Python block may span lines, up to }%.
            if (rest.StartsWith("%{", StringComparison.Ordinal))
            {
                var block = rest;
                while (!block.Contains("}%", StringComparison.Ordinal))
                {
                    if (++i >= lines.Length) throw new ScriptParseException(path, lineNo, "%{ without }%");
                    block += "\n" + lines[i];
                }
                events.Add(new ScriptEvent(lineNo, time, EventKind.Python, block));
                continue;
            }
            if (SystemCallStart().IsMatch(rest))
            {
                // Linux scripts write recvmsg() and poll() arguments over several lines.
                while (OpenBrackets(rest) > 0)
                {
                    if (++i >= lines.Length) throw new ScriptParseException(path, lineNo, "unbalanced brackets in a system call");
                    rest += " " + StripComment(lines[i]).Trim();
                }
            }
            var kind = rest switch
            {
                _ when rest.StartsWith('`') => EventKind.Command,
                _ when rest.StartsWith('<') => EventKind.Inbound,
                _ when rest.StartsWith('>') => EventKind.Outbound,
                _ when SystemCallShape().IsMatch(rest) => EventKind.SystemCall,
                _ => throw new ScriptParseException(path, lineNo, $"not a packet, a system call, a command or a Python block: '{Shorten(rest)}'"),
            };
            if (kind == EventKind.Command)
            {
                // A command may go on over several lines, up to its closing backquote.
                while (rest.Count(c => c == '`') < 2)
                {
                    if (++i >= lines.Length) throw new ScriptParseException(path, lineNo, "unterminated `command`");
                    rest += "\n" + lines[i].Trim();
                }
                if (!rest.EndsWith('`')) throw new ScriptParseException(path, lineNo, "unterminated `command`");
            }
            if (kind is EventKind.Inbound or EventKind.Outbound) CheckPacket(rest, path, lineNo);
            events.Add(new ScriptEvent(lineNo, time, kind, rest));
        }
        if (active.Count != 0) throw new ScriptParseException(path, lines.Length, "#ifdef without #endif");
        return new PacketdrillScript(path, options, events);
    }

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*\s*\(.*\)\s*=\s*\S+")]
    private static partial Regex SystemCallShape();

    [GeneratedRegex(@"^[a-z_][a-z0-9_]*\s*\(")]
    private static partial Regex SystemCallStart();

    [GeneratedRegex(@"^[<>]\s*(\[[a-z0-9]+\])?\s*(\((tos|class|ttl|hlim)[^)]*\)\s*)*(?<flags>[SFRPEWU.]+|-|icmp)\s")]
    private static partial Regex PacketShape();

    private static void CheckPacket(string text, string path, int line)
    {
        if (!PacketShape().IsMatch(text + " ")) throw new ScriptParseException(path, line, $"malformed packet: '{Shorten(text)}'");
    }

    private static string StripComment(string s)
    {
        int i = s.IndexOf("//", StringComparison.Ordinal);
        return i < 0 ? s : s[..i];
    }

    private static double Seconds(string s) => double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>How far a line opens more brackets than it closes (a system call written over several lines).</summary>
    private static int OpenBrackets(string s)
    {
        int depth = 0;
        foreach (char c in s)
        {
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
        }
        return depth;
    }

    private static string Shorten(string s) => s.Length <= 60 ? s : s[..57] + "...";
}
