namespace Synack.Wire;

/// <summary>The two ECN bits of the IP header (RFC 3168 section 5).</summary>
public enum EcnCodepoint : byte
{
    /// <summary>Not ECN-capable transport (00).</summary>
    NotEct = 0,
    /// <summary>ECN-capable transport, ECT(1) (01).</summary>
    Ect1 = 1,
    /// <summary>ECN-capable transport, ECT(0) (10).</summary>
    Ect0 = 2,
    /// <summary>Congestion Experienced: a router marked the packet instead of dropping it.</summary>
    Ce = 3,
}
