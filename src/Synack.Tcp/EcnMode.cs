namespace Synack.Tcp;

/// <summary>Explicit Congestion Notification (RFC 3168): whether we ask for it and whether we agree to it.</summary>
public enum EcnMode
{
    /// <summary>Neither asked for nor agreed to.</summary>
    Off,
    /// <summary>Agreed to when the peer's SYN asks (Linux tcp_ecn=2, FreeBSD ecn.enable=2).</summary>
    Accept,
    /// <summary>Asked for in our SYN, and agreed to when asked (tcp_ecn=1, ecn.enable=1).</summary>
    Request,
}
