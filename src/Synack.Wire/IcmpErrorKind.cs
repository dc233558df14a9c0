namespace Synack.Wire;

/// <summary>What an ICMP error means for the TCP connection it quotes (RFC 1122 4.2.3.9, RFC 5927).</summary>
public enum IcmpErrorKind : byte
{
    /// <summary>Network or host unreachable, source route failed, and the like: worth reporting, not worth giving up for.</summary>
    Soft,
    /// <summary>Protocol or port unreachable, or communication administratively prohibited: nobody will answer.</summary>
    Refused,
    /// <summary>Time (TTL / hop limit) exceeded in transit.</summary>
    HostUnreachable,
    /// <summary>Fragmentation needed / packet too big (path MTU discovery).</summary>
    PacketTooBig,
    /// <summary>Not an error about a packet (echo, redirect, source quench...).</summary>
    Other,
}
