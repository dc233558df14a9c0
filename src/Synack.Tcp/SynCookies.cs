using System.Buffers.Binary;
using System.Security.Cryptography;
using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// SYN cookies (RFC 4987 3.6) in Linux's encoding: a listener whose SYN queue is full answers with a
/// SYN-ACK whose ISS is the cookie and keeps nothing; the ACK that returns it (ACK − 1) rebuilds the
/// connection. The cookie is hash₁(tuple) + the client's ISN + (minute ≪ 24) + ((hash₂(tuple, minute)
/// + MSS index) mod 2²⁴): it is valid for two minutes and carries one of four MSS values. With
/// timestamps, the low 6 bits of our TSval carry the peer's window scale (4 bits, 15 for none), SACK
/// and ECN, which the ACK's TSecr gives back (Linux's cookie_init_timestamp); without them the
/// cookie connection has neither window scaling nor SACK, and its SYN-ACK offers neither.
/// </summary>
internal sealed class SynCookies
{
    private const int CookieBits = 24;
    private const uint CookieMask = (1u << CookieBits) - 1;
    /// <summary>Minutes a cookie stays good (Linux's MAX_SYNCOOKIE_AGE).</summary>
    private const uint MaxAgeMinutes = 2;
    private const int TsBits = 6;
    private const uint TsMask = (1u << TsBits) - 1;
    private const uint NoWindowScale = 0xF;
    private const uint TsSack = 1 << 4;
    private const uint TsEcn = 1 << 5;

    // Linux's tables: the MSS values most peers offer, largest last.
    private static readonly ushort[] MssV4 = [536, 1300, 1440, 1460];
    private static readonly ushort[] MssV6 = [1220, 1420, 1440, 8940];

    private readonly ulong _k0, _k1, _k2, _k3;

    /// <param name="secret">The host's secret; two SipHash keys are derived from it, so the cookies tell nothing about it.</param>
    public SynCookies(ReadOnlySpan<byte> secret)
    {
        Span<byte> keys = stackalloc byte[32];
        HMACSHA256.HashData(secret, "synack: SYN cookie keys"u8, keys);
        _k0 = BinaryPrimitives.ReadUInt64LittleEndian(keys);
        _k1 = BinaryPrimitives.ReadUInt64LittleEndian(keys[8..]);
        _k2 = BinaryPrimitives.ReadUInt64LittleEndian(keys[16..]);
        _k3 = BinaryPrimitives.ReadUInt64LittleEndian(keys[24..]);
    }

    /// <summary>The cookie for a SYN with <paramref name="clientIsn"/> offering <paramref name="peerMss"/>, and the MSS it will give back (the largest in the table not above the peer's).</summary>
    public SeqNum Create(in FourTuple tuple, SeqNum clientIsn, int peerMss, TimeSpan now, out ushort mss)
    {
        var table = tuple.RemoteAddress.IsV6 ? MssV6 : MssV4;
        int index = table.Length - 1;
        while (index > 0 && peerMss < table[index]) index--;
        mss = table[index];
        uint minute = Minute(now);
        uint cookie = unchecked(Hash(in tuple, 0, _k0, _k1) + clientIsn.Value + (minute << CookieBits)
            + ((Hash(in tuple, minute, _k2, _k3) + (uint)index) & CookieMask));
        return new SeqNum(cookie);
    }

    /// <summary>
    /// True when <paramref name="cookie"/> (the ACK's number less one) is one we made for this tuple and
    /// <paramref name="clientIsn"/> (its sequence number less one) in the last two minutes; then the MSS it carries.
    /// </summary>
    public bool TryCheck(in FourTuple tuple, SeqNum clientIsn, SeqNum cookie, TimeSpan now, out ushort mss)
    {
        mss = 0;
        uint minute = Minute(now);
        uint c = unchecked(cookie.Value - (Hash(in tuple, 0, _k0, _k1) + clientIsn.Value));
        uint age = unchecked(minute - (c >> CookieBits)) & (uint.MaxValue >> CookieBits);
        if (age >= MaxAgeMinutes) return false;
        uint index = unchecked(c - Hash(in tuple, minute - age, _k2, _k3)) & CookieMask;
        var table = tuple.RemoteAddress.IsV6 ? MssV6 : MssV4;
        if (index >= table.Length) return false;
        mss = table[index];
        return true;
    }

    /// <summary>
    /// Our TSval for a cookie SYN-ACK: <paramref name="now"/>'s value with its low 6 bits replaced by the
    /// options to remember, stepped back rather than forward so the clock never runs ahead of itself.
    /// </summary>
    public static uint EncodeTimestamp(uint now, byte? peerWindowScale, bool sack, bool ecn)
    {
        uint options = peerWindowScale is byte shift ? Math.Min(shift, (byte)14) : NoWindowScale;
        if (sack) options |= TsSack;
        if (ecn) options |= TsEcn;
        uint ts = (now & ~TsMask) | options;
        return ts > now ? unchecked(ts - (TsMask + 1)) : ts;
    }

    /// <summary>The options a cookie SYN-ACK's TSval remembered, from the TSecr that echoes it.</summary>
    public static void DecodeTimestamp(uint tsEcr, out byte? peerWindowScale, out bool sack, out bool ecn)
    {
        uint options = tsEcr & TsMask;
        uint shift = options & NoWindowScale;
        peerWindowScale = shift == NoWindowScale ? null : (byte)shift;
        sack = (options & TsSack) != 0;
        ecn = (options & TsEcn) != 0;
    }

    private static uint Minute(TimeSpan now) => unchecked((uint)(now.Ticks / TimeSpan.TicksPerMinute));

    private static uint Hash(in FourTuple t, uint minute, ulong k0, ulong k1)
    {
        Span<byte> input = stackalloc byte[40];
        t.LocalAddress.WriteTo(input);
        t.RemoteAddress.WriteTo(input[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[32..], t.LocalPort);
        BinaryPrimitives.WriteUInt16BigEndian(input[34..], t.RemotePort);
        BinaryPrimitives.WriteUInt32BigEndian(input[36..], minute);
        return (uint)SipHash.Hash(k0, k1, input);
    }
}
