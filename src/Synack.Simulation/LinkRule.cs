using Synack.Stack;

namespace Synack.Simulation;

/// <summary>A fault aimed at the packets a predicate picks (sender, IP packet), for a number of matches.</summary>
public sealed class LinkRule(Func<INetworkNode, byte[], bool> match, LinkFault fault, int times, TimeSpan delay)
{
    /// <summary>Picks the packets the rule acts on, by sender and IP packet.</summary>
    public Func<INetworkNode, byte[], bool> Match { get; } = match;
    /// <summary>What the rule does to a packet it picks.</summary>
    public LinkFault Fault { get; } = fault;
    /// <summary>How many more packets the rule will act on.</summary>
    public int Remaining { get; internal set; } = times;
    /// <summary>For <see cref="LinkFault.Delay"/>, how much later the packet arrives.</summary>
    public TimeSpan Delay { get; } = delay;
    /// <summary>How many packets the rule has acted on.</summary>
    public int Applied { get; internal set; }
}
