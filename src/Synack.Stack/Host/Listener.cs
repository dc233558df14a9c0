using Synack.Tcp;

namespace Synack.Stack;

/// <summary>A passive open: a port (and maybe an address) with a SYN queue and an accept queue.</summary>
internal sealed class Listener
{
    public required ushort Port { get; init; }
    public Synack.Wire.IpAddr? Address { get; init; }
    public required int Backlog { get; init; }
    public required ConnectionOptions Options { get; init; }
    /// <summary>Connections in SYN-RECEIVED (the SYN queue).</summary>
    public int HalfOpen { get; set; }
    /// <summary>Established connections the application has not accepted yet.</summary>
    public Queue<StackConnection> AcceptQueue { get; } = new();
    public Action? Ready { get; set; }
    public bool Closed { get; set; }
}
