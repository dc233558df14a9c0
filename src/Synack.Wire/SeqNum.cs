namespace Synack.Wire;

/// <summary>
/// A TCP sequence number: a point on a 2^32 circle (RFC 9293 section 3.4).
/// Comparison is modular, so it is only meaningful between numbers less than 2^31 apart,
/// which the window rules guarantee for any two numbers a connection compares.
/// </summary>
public readonly record struct SeqNum(uint Value) : IComparable<SeqNum>
{
    /// <summary>Advances by <paramref name="n"/> modulo 2^32.</summary>
    public static SeqNum operator +(SeqNum a, int n) => new(unchecked(a.Value + (uint)n));
    /// <summary>Advances by <paramref name="n"/> modulo 2^32.</summary>
    public static SeqNum operator +(SeqNum a, uint n) => new(unchecked(a.Value + n));
    /// <summary>Goes back by <paramref name="n"/> modulo 2^32.</summary>
    public static SeqNum operator -(SeqNum a, int n) => new(unchecked(a.Value - (uint)n));

    /// <summary>The signed distance from <paramref name="b"/> to <paramref name="a"/>.</summary>
    public static int operator -(SeqNum a, SeqNum b) => unchecked((int)(a.Value - b.Value));

    /// <summary>Before, in modulo-2^32 order (RFC 9293 section 3.4): less than 2^31 behind.</summary>
    public static bool operator <(SeqNum a, SeqNum b) => (a - b) < 0;
    /// <summary>After, in modulo-2^32 order.</summary>
    public static bool operator >(SeqNum a, SeqNum b) => (a - b) > 0;
    /// <summary>Before or equal, in modulo-2^32 order.</summary>
    public static bool operator <=(SeqNum a, SeqNum b) => (a - b) <= 0;
    /// <summary>After or equal, in modulo-2^32 order.</summary>
    public static bool operator >=(SeqNum a, SeqNum b) => (a - b) >= 0;

    /// <summary>The later of two sequence numbers.</summary>
    public static SeqNum Max(SeqNum a, SeqNum b) => a >= b ? a : b;
    /// <summary>The earlier of two sequence numbers.</summary>
    public static SeqNum Min(SeqNum a, SeqNum b) => a <= b ? a : b;

    /// <summary>True when <paramref name="lo"/> &lt;= this &lt; <paramref name="hi"/> on the circle.</summary>
    public bool InRange(SeqNum lo, SeqNum hi) => unchecked(Value - lo.Value) < unchecked(hi.Value - lo.Value);

    /// <summary>Compares in modulo-2^32 order; not a total order over all values, only within 2^31 of each other.</summary>
    public int CompareTo(SeqNum other) => Math.Sign(this - other);

    /// <summary>The 32-bit value in decimal.</summary>
    public override string ToString() => Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
