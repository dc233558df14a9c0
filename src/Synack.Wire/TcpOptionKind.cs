namespace Synack.Wire;

/// <summary>TCP option kinds (IANA's registry) that the stack writes or reads.</summary>
public enum TcpOptionKind : byte
{
    /// <summary>End of option list (0).</summary>
    EndOfList = 0,
    /// <summary>No-operation (1), used for padding.</summary>
    Nop = 1,
    /// <summary>Maximum segment size (2), RFC 9293.</summary>
    Mss = 2,
    /// <summary>Window scale (3), RFC 7323.</summary>
    WindowScale = 3,
    /// <summary>SACK permitted (4), RFC 2018.</summary>
    SackPermitted = 4,
    /// <summary>SACK blocks (5), RFC 2018.</summary>
    Sack = 5,
    /// <summary>Timestamps (8), RFC 7323.</summary>
    Timestamps = 8,
}
