using System.Buffers.Binary;
using System.Security.Cryptography;
using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// RFC 6528: ISN = M + F(local address, local port, remote address, remote port, secret), where M
/// ticks every 4 microseconds and F is a keyed hash (HMAC-SHA-256 here). Each 4-tuple gets its own
/// sequence space that moves forward with time, so an old duplicate is unlikely to fall in a new
/// incarnation's window, and an off-path attacker cannot guess it.
/// </summary>
public sealed class Rfc6528IsnGenerator : IIsnGenerator
{
    private readonly byte[] _secret;

    /// <summary>A generator keyed by <paramref name="secret"/> (at least 16 bytes): the same secret gives the same ISNs.</summary>
    public Rfc6528IsnGenerator(ReadOnlySpan<byte> secret)
    {
        if (secret.Length < 16) throw new ArgumentException("the ISN secret must be at least 16 bytes", nameof(secret));
        _secret = secret.ToArray();
    }

    /// <summary>A generator with a secret from the system's cryptographic random source.</summary>
    public static Rfc6528IsnGenerator WithRandomSecret() => new(RandomNumberGenerator.GetBytes(32));

    /// <summary>M + F(tuple, secret), M ticking every 4 microseconds of <paramref name="now"/>.</summary>
    public SeqNum Next(in FourTuple tuple, TimeSpan now)
    {
        uint m = unchecked((uint)(now.Ticks / 40)); // 100 ns ticks -> 4 us
        return new SeqNum(unchecked(m + Hash(in tuple, 0)));
    }

    /// <summary>A per-tuple offset for the timestamp clock, from the same keyed hash.</summary>
    public uint TimestampOffset(in FourTuple tuple) => Hash(in tuple, 1);

    private uint Hash(in FourTuple t, byte purpose)
    {
        Span<byte> input = stackalloc byte[37];
        t.LocalAddress.WriteTo(input);
        t.RemoteAddress.WriteTo(input[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[32..], t.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(input[34..], t.RemotePort);
        input[36] = purpose;
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(_secret, input, mac);
        return BinaryPrimitives.ReadUInt32BigEndian(mac);
    }
}
