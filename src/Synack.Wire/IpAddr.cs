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

    public bool IsV6 { get; }
    internal ulong Hi => _hi;
    internal ulong Lo => _lo;
    public int Length => IsV6 ? 16 : 4;

    public static IpAddr FromSpan(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        4 => new IpAddr(0, BinaryPrimitives.ReadUInt32BigEndian(bytes), false),
        16 => new IpAddr(BinaryPrimitives.ReadUInt64BigEndian(bytes), BinaryPrimitives.ReadUInt64BigEndian(bytes[8..]), true),
        _ => throw new ArgumentException("an IP address is 4 or 16 bytes", nameof(bytes)),
    };

    public static IpAddr Parse(string text) => FromIPAddress(IPAddress.Parse(text));

    public static IpAddr FromIPAddress(IPAddress address)
    {
        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out int written);
        return FromSpan(b[..written]);
    }

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

    public IPAddress ToIPAddress()
    {
        Span<byte> b = stackalloc byte[16];
        WriteTo(b);
        return new IPAddress(b[..Length]);
    }

    public override string ToString() => ToIPAddress().ToString();
}
