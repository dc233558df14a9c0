using System.Buffers.Binary;
using System.Security.Cryptography;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// RFC 6056 algorithm 3 ("simple hash-based"): each (local, remote, remote port) starts its search at
/// its own keyed-hash offset, and a shared counter moves on after every choice, so ports are hard to
/// guess and a reused destination does not get a just-freed port back at once.
/// </summary>
internal sealed class EphemeralPorts(byte[] secret, ushort min, ushort max)
{
    private uint _next;

    public ushort? Choose(IpAddr local, IpAddr remote, ushort remotePort, Func<ushort, bool> inUse)
    {
        int count = max - min + 1;
        uint offset = Offset(local, remote, remotePort);
        for (int i = 0; i < count; i++)
        {
            var port = (ushort)(min + (int)((_next + offset + (uint)i) % (uint)count));
            if (inUse(port)) continue;
            _next += (uint)i + 1;
            return port;
        }
        return null;
    }

    private uint Offset(IpAddr local, IpAddr remote, ushort remotePort)
    {
        Span<byte> input = stackalloc byte[34];
        local.WriteTo(input);
        remote.WriteTo(input[16..]);
        BinaryPrimitives.WriteUInt16BigEndian(input[32..], remotePort);
        Span<byte> mac = stackalloc byte[32];
        HMACSHA256.HashData(secret, input, mac);
        return BinaryPrimitives.ReadUInt32BigEndian(mac);
    }
}
