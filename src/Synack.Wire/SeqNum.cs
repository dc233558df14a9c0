namespace Synack.Wire;

/// <summary>
/// A TCP sequence number: a point on a 2^32 circle (RFC 9293 section 3.4).
/// Comparison is modular, so it is only meaningful between numbers less than 2^31 apart,
/// which the window rules guarantee for any two numbers a connection compares.
/// </summary>
public readonly record struct SeqNum(uint Value) : IComparable<SeqNum>
{
    public static SeqNum operator +(SeqNum a, int n) => new(unchecked(a.Value + (uint)n));
    public static SeqNum operator +(SeqNum a, uint n) => new(unchecked(a.Value + n));
    public static SeqNum operator -(SeqNum a, int n) => new(unchecked(a.Value - (uint)n));

    /// <summary>The signed distance from <paramref name="b"/> to <paramref name="a"/>.</summary>
    public static int operator -(SeqNum a, SeqNum b) => unchecked((int)(a.Value - b.Value));

    public static bool operator <(SeqNum a, SeqNum b) => (a - b) < 0;
    public static bool operator >(SeqNum a, SeqNum b) => (a - b) > 0;
    public static bool operator <=(SeqNum a, SeqNum b) => (a - b) <= 0;
    public static bool operator >=(SeqNum a, SeqNum b) => (a - b) >= 0;

    public static SeqNum Max(SeqNum a, SeqNum b) => a >= b ? a : b;
    public static SeqNum Min(SeqNum a, SeqNum b) => a <= b ? a : b;

    /// <summary>True when <paramref name="lo"/> &lt;= this &lt; <paramref name="hi"/> on the circle.</summary>
    public bool InRange(SeqNum lo, SeqNum hi) => unchecked(Value - lo.Value) < unchecked(hi.Value - lo.Value);

    public int CompareTo(SeqNum other) => Math.Sign(this - other);

    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
