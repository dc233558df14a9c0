namespace Synack.Tcp;

/// <summary>Where the sender's loss recovery stands (Linux's <c>tcpi_ca_state</c>, with its numbers).</summary>
public enum CongestionState
{
    /// <summary>Nothing amiss.</summary>
    Open = 0,
    /// <summary>Duplicate ACKs or SACKs seen, not yet taken as loss.</summary>
    Disorder = 1,
    /// <summary>The window was reduced for an ECN echo; nothing is being resent.</summary>
    Cwr = 2,
    /// <summary>Fast recovery: resending what duplicate ACKs say is missing.</summary>
    Recovery = 3,
    /// <summary>After a retransmission timeout, until everything outstanding then is acknowledged.</summary>
    Loss = 4,
}
