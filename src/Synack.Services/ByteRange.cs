using System.Globalization;

namespace Synack.Services;

/// <summary>
/// One range of a Range header (RFC 9110 14.1.2): <c>bytes=first-last</c>, <c>bytes=first-</c> or
/// <c>bytes=-suffix</c>. Anything else (other units, several ranges) parses as null, and the server
/// then sends the whole file, as the RFC lets it.
/// </summary>
internal readonly record struct ByteRange(long? First, long? Last)
{
    public static ByteRange? Parse(string value)
    {
        if (!value.StartsWith("bytes=", StringComparison.OrdinalIgnoreCase)) return null;
        var spec = value.AsSpan(6).Trim();
        int dash = spec.IndexOf('-');
        if (dash < 0 || spec.Contains(',')) return null;
        var first = spec[..dash].Trim();
        var last = spec[(dash + 1)..].Trim();
        long? f = null, l = null;
        if (!first.IsEmpty)
        {
            if (!TryDigits(first, out var v)) return null;
            f = v;
        }
        if (!last.IsEmpty)
        {
            if (!TryDigits(last, out var v)) return null;
            l = v;
        }
        if (f is null && l is null || f is long a && l is long b && b < a) return null;
        return new ByteRange(f, l);
    }

    private static bool TryDigits(ReadOnlySpan<char> s, out long value) =>
        long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    /// <summary>The bytes this range takes of a file of <paramref name="length"/>; false when it takes none (416).</summary>
    public static bool TryResolve(ByteRange range, long length, out long start, out long count)
    {
        start = count = 0;
        if (range.First is long first)
        {
            if (first >= length) return false;
            long last = range.Last is long l ? Math.Min(l, length - 1) : length - 1;
            (start, count) = (first, last - first + 1);
            return true;
        }
        long suffix = range.Last!.Value;
        if (suffix == 0 || length == 0) return false;
        count = Math.Min(suffix, length);
        start = length - count;
        return true;
    }
}
