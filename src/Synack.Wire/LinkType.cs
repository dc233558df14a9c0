namespace Synack.Wire;

/// <summary>Link-layer header types (the tcpdump.org LINKTYPE_ numbers) the reader understands.</summary>
public enum LinkType
{
    Null = 0,
    Ethernet = 1,
    Raw = 101,
    Loop = 108,
    LinuxSll = 113,
    Ipv4 = 228,
    Ipv6 = 229,
    LinuxSll2 = 276,
}
