namespace Synack.Wire;

/// <summary>The two ECN bits of the IP header (RFC 3168 section 5).</summary>
public enum EcnCodepoint : byte
{
    NotEct = 0,
    Ect1 = 1,
    Ect0 = 2,
    /// <summary>Congestion Experienced: a router marked the packet instead of dropping it.</summary>
    Ce = 3,
}
