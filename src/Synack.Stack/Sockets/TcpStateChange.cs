using Synack.Tcp;

namespace Synack.Stack;

/// <summary>
/// One state change of a connection: from and to, why (RFC 9293's event, as the trace spells it:
/// "rcv SYN-ACK", "user CLOSE", "2MSL timeout"), and when, on the stack's clock (virtual in a simulation).
/// </summary>
public readonly record struct TcpStateChange(TcpState From, TcpState To, string Cause, TimeSpan At)
{
    /// <summary>"ESTABLISHED -&gt; FIN-WAIT-1 (user CLOSE)".</summary>
    public override string ToString() => $"{From.ToRfcName()} -> {To.ToRfcName()} ({Cause})";
}
