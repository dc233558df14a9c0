using System.Buffers.Binary;
using System.Net;

namespace Synack.Wire;

/// <summary>An IPv4 or IPv6 address as a value: hashable, comparable, no allocation.</summary>
public readonly record struct IpAddr
{
    private readonly ulong _hi;
    private readonly ulong _lo;

    internal IpAddr(ulong hi, ulong lo, bool isV6)
    {
        _hi = hi;
        _lo = lo;
        IsV6 = isV6;
    }

    /// <summary>True for an IPv6 address, false for IPv4.</summary>
    public bool IsV6 { get; }
    internal ulong Hi => _hi;
    internal ulong Lo => _lo;
    /// <summary>The address's length in bytes: 4 or 16.</summary>
    public int Length => IsV6 ? 16 : 4;

    /// <summary>An address from its 4 or 16 bytes in network order.</summary>
    public static IpAddr FromSpan(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => new IpAddr(0, BinaryPrimitives.ReadUInt32BigEndian(bytes), false),
        16 => new IpAddr(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), true),
        _ => throw new ArgumentException("an IP address is 4 or 16 bytes", nameof(bytes)),
    };

    /// <summary>Parses "192.0.2.1" or "2001:db8::1"; throws <see cref="FormatException"/> on anything else.</summary>
    public static IpAddr Parse(string text) => FromIPAddress(IPAddress.Parse(text));

    /// <summary>The same address from an <see cref="IPAddress"/> of either family.</summary>
    public static IpAddr FromIPAddress(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int written);
        return FromSpan(b[..written]);
    }

    /// <summary>Writes the address's 4 or 16 bytes in network order.</summary>
    public void WriteTo(Span<byte> dest)
    {
        if (IsV6)
        {
            BinaryPrimitives.WriteUInt64BigEndian(dest, _hi);
            BinaryPrimitives.WriteUInt64BigEndian(dest[8..], _lo);
        }
        else
        {
            BinaryPrimitives.WriteUInt32BigEndian(dest, (uint)_lo);
        }
    }

    /// <summary>The address as a <see cref="IPAddress"/>.</summary>
    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        WriteTo(b);
        return new IPAddress(b[..Length]);
    }

    /// <summary>The usual text form ("192.0.2.1", "2001:db8::1").</summary>
    public override string ToString() => ToIPAddress().ToString();
}
