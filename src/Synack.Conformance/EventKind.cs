namespace Synack.Conformance;

/// <summary>What a line of a packetdrill script is.</summary>
public enum EventKind
{
    /// <summary>A shell command: <c>sysctl -w</c>, <c>sockstat</c>, <c>tcpdrop</c>.</summary>
    Command,     // `sysctl -w …`, `sockstat …`, `tcpdrop …`
    /// <summary>A system call and its expected result: <c>socket(...) = 3</c>.</summary>
    SystemCall,  // socket(…) = 3
    /// <summary>A packet the script injects: <c>&lt; S 0:0(0) win 1000</c>.</summary>
    Inbound,     // < S 0:0(0) win 1000 <mss 1460>
    /// <summary>A packet the stack must send: <c>&gt; S. 0:0(0) ack 1</c>.</summary>
    Outbound,    // > S. 0:0(0) ack 1 …
    /// <summary>A Python assertion over <c>tcp_info</c>.</summary>
    Python,      // %{ assert tcpi_state == TCPI_CLOSING }%
}
