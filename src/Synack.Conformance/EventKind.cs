namespace Synack.Conformance;

public enum EventKind
{
    Command,     // `sysctl -w …`, `sockstat …`, `tcpdrop …`
    SystemCall,  // socket(…) = 3
    Inbound,     // < S 0:0(0) win 1000 <mss 1460>
    Outbound,    // > S. 0:0(0) ack 1 …
    Python,      // %{ assert tcpi_state == TCPI_CLOSING }%
}
