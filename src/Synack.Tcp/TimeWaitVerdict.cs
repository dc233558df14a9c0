namespace Synack.Tcp;

/// <summary>What the host does after a segment has hit a TIME-WAIT connection (besides sending the reply, if any).</summary>
public enum TimeWaitVerdict
{
    /// <summary>The segment was taken (a retransmitted FIN, a challenge): the entry stays, its deadline may have moved.</summary>
    Keep,
    /// <summary>The segment is dropped and counted; the entry stays.</summary>
    Drop,
    /// <summary>The entry is gone (an exact RST, or RFC 793's RST for a SYN in the window).</summary>
    Close,
    /// <summary>RFC 6191: a SYN with a newer ISN or timestamp; the entry is gone, the SYN goes to a listener.</summary>
    Reopen,
}
