using Synack.Stack;

namespace Synack.Simulation;

/// <summary>A fault aimed at the packets a predicate picks (sender, IP packet), for a number of matches.</summary>
public sealed class LinkRule(Func<INetworkNode, byte[], bool> match, LinkFault fault, int times, TimeSpan delay)
{
    public Func<INetworkNode, byte[], bool> Match { get; } = match;
    public LinkFault Fault { get; } = fault;
    public int Remaining { get; internal set; } = times;
    public TimeSpan Delay { get; } = delay;
    /// <summary>How many packets the rule has acted on.</summary>
    public int Applied { get; internal set; }
}
