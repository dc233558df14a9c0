namespace Synack.Wire;

/// <summary>Link-layer header types (the tcpdump.org LINKTYPE_ numbers) the reader understands.</summary>
public enum LinkType
{
    /// <summary>BSD loopback: a 4-byte address family in host order.</summary>
    Null = 0,
    /// <summary>Ethernet II and 802.3.</summary>
    Ethernet = 1,
    /// <summary>Raw IP, no link header.</summary>
    Raw = 101,
    /// <summary>OpenBSD loopback: a 4-byte address family in network order.</summary>
    Loop = 108,
    /// <summary>Linux cooked capture, version 1.</summary>
    LinuxSll = 113,
    /// <summary>Raw IPv4.</summary>
    Ipv4 = 228,
    /// <summary>Raw IPv6.</summary>
    Ipv6 = 229,
    /// <summary>Linux cooked capture, version 2.</summary>
    LinuxSll2 = 276,
}
