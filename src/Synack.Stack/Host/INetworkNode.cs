using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// A host on a link and a loop: it takes IP packets and <c>now</c>, sends through <see cref="Output"/>,
/// and says when it next needs time. A <see cref="NetworkStack"/> is one; so is a host that keeps a
/// single bare connection (the simulation's differential engine).
/// </summary>
public interface INetworkNode
{
    /// <summary>The host's name, as traces and captures show it.</summary>
    string Name { get; }
    /// <summary>The addresses the host answers on.</summary>
    IReadOnlyList<IpAddr> Addresses { get; }
    /// <summary>Where the node's outgoing packets go (a link).</summary>
    IPacketSink? Output { get; set; }
    /// <summary>Takes one IP packet; the span is valid only during the call.</summary>
    void Receive(ReadOnlySpan<byte> packet, TimeSpan now);
    /// <summary>When <see cref="Advance"/> should next be called; null when no timer runs.</summary>
    TimeSpan? NextWakeup { get; }
    /// <summary>Fires every timer due by <paramref name="now"/>.</summary>
    void Advance(TimeSpan now);
}
