using System.Globalization;

namespace Synack.Conformance;

/// <summary>
/// A system call line: <c>getsockopt(3, SOL_SOCKET, SO_ERROR, [ECONNRESET], [4]) = 0</c> or
/// <c>connect(3, ..., ...) = -1 EINPROGRESS (Operation now in progress)</c>.
/// </summary>
internal sealed class ScriptSyscall
{
    public required string Name { get; init; }
    public required IReadOnlyList<string> Args { get; init; }
    public required long Result { get; init; }
    /// <summary>
    /// The script leaves the result open (<c>= ?</c>, a generated scenario's call): the run records
    /// what the stack returned instead of holding it to a value.
    /// </summary>
    public bool Open => Result == OpenResult;
    public const long OpenResult = long.MinValue;
    /// <summary>The errno the call must fail with, when <see cref="Result"/> is -1.</summary>
    public string? Errno { get; init; }
    public required string Text { get; init; }

    public static ScriptSyscall Parse(string text)
    {
        int open = text.IndexOf('(');
        if (open <= 0) throw new FormatException("a system call is name(arguments) = result");
        string name = text[..open].Trim();
        int depth = 0, close = -1;
        for (int i = open; i < text.Length; i++)
        {
            if (text[i] is '(' or '[' or '{') depth++;
            else if (text[i] is ')' or ']' or '}' && --depth == 0)
            {
                close = i;
                break;
            }
        }
        if (close < 0) throw new FormatException("unbalanced parentheses");
        var args = SplitTopLevel(text[(open + 1)..close]);
        var rest = text[(close + 1)..].Trim();
        if (!rest.StartsWith('=')) throw new FormatException("expected '= result'");
        var words = rest[1..].Trim().Split((char[]?)null, 3, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0) throw new FormatException("missing result");
        if (words[0] == "?") return new ScriptSyscall { Name = name, Args = args, Result = OpenResult, Text = text };
        long result = ParseNumber(words[0]);
        string? errno = null;
        if (result == -1)
        {
            if (words.Length < 2 || !words[1].StartsWith('E')) throw new FormatException("a failing call names its errno: = -1 EXXX");
            errno = words[1];
        }
        return new ScriptSyscall { Name = name, Args = args, Result = result, Errno = errno, Text = text };
    }

    public static long ParseNumber(string s)
    {
        s = s.Trim();
        bool neg = s.StartsWith('-');
        if (neg) s = s[1..];
        long v = s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? long.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : long.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);
        return neg ? -v : v;
    }

    private static List<string> SplitTopLevel(string s)
    {
        var list = new List<string>();
        int depth = 0, start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (c == ',' && depth == 0)
            {
                list.Add(s[start..i].Trim());
                start = i + 1;
            }
        }
        if (s.Trim().Length > 0) list.Add(s[start..].Trim());
        return list;
    }
}
