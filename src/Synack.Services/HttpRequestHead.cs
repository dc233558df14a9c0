using System.Text;

namespace Synack.Services;

/// <summary>
/// The line and headers of an HTTP/1.x request (RFC 9112), as much of them as <see cref="FileServer"/>
/// acts on. Parsing is strict where leniency lets two parsers disagree about where a request ends
/// (folded lines, a space before the colon, conflicting lengths): those are a 400, not a guess.
/// </summary>
internal sealed record HttpRequestHead(string Method, string Path, bool KeepAlive, bool HasBody, ByteRange? Range)
{
    /// <summary>The request whose head is <paramref name="head"/> (through the empty line), or null when it is malformed.</summary>
    public static HttpRequestHead? Parse(ReadOnlySpan<byte> head)
    {
        string text = Encoding.Latin1.GetString(head);
        var lines = text.Split("\r\n");
        var parts = lines[0].Split(' ');
        if (parts.Length != 3 || parts[0].Length == 0 || !IsToken(parts[0]) || parts[1].Length == 0) return null;
        bool http11 = parts[2] == "HTTP/1.1";
        if (!http11 && parts[2] != "HTTP/1.0") return null;
        string target = parts[1];
        int query = target.IndexOfAny(['?', '#']);
        string path = query < 0 ? target : target[..query];

        bool host = false, close = false, keepAlive = false, body = false;
        long? length = null;
        ByteRange? range = null;
        for (int i = 1; i < lines.Length; i++)
        {
            var line = lines[i];
            if (line.Length == 0) continue; // the empty line that ends the head
            if (line[0] is ' ' or '\t') return null; // obsolete line folding
            int colon = line.IndexOf(':');
            if (colon <= 0 || !IsToken(line[..colon])) return null;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (value.Any(ch => ch is '\r' or '\n' or '\0')) return null;
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                if (host) return null; // two Hosts: which one?
                host = true;
            }
            else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                if (!long.TryParse(value, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n) || length is long other && other != n) return null;
                length = n;
                body |= n > 0;
            }
            else if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)) body = true;
            else if (name.Equals("Connection", StringComparison.OrdinalIgnoreCase))
            {
                foreach (var token in value.Split(','))
                {
                    var t = token.Trim();
                    if (t.Equals("close", StringComparison.OrdinalIgnoreCase)) close = true;
                    else if (t.Equals("keep-alive", StringComparison.OrdinalIgnoreCase)) keepAlive = true;
                }
            }
            else if (name.Equals("Range", StringComparison.OrdinalIgnoreCase)) range = ByteRange.Parse(value);
        }
        if (http11 && !host) return null; // RFC 9112 3.2: a 1.1 request without Host is a 400
        return new HttpRequestHead(parts[0], path, http11 ? !close : keepAlive && !close, body, range);
    }

    private static bool IsToken(string s)
    {
        foreach (char ch in s)
            if (ch <= ' ' || ch >= 0x7F || "\"(),/:;<=>?@[\\]{}".Contains(ch)) return false;
        return true;
    }
}
