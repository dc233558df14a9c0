using Synack.Stack;

namespace Synack.Simulation;

/// <summary>How a <see cref="MemoryLink"/> treats the packets it carries. Every random choice comes from the seed.</summary>
public sealed record LinkOptions
{
    /// <summary>One-way propagation delay.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Bytes per second each sender can put on the link; 0 is unlimited.</summary>
    public long RateBytesPerSecond { get; init; }
    /// <summary>Packets a sender's queue holds while the link is busy; beyond it, tail drop.</summary>
    public int QueueLimit { get; init; } = 1000;
    public double Loss { get; init; }
    public double Duplication { get; init; }
    /// <summary>Probability that a packet is held back by up to <see cref="ReorderDelay"/>, letting later ones pass.</summary>
    public double Reordering { get; init; }
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    public double Corruption { get; init; }
    public int Seed { get; init; } = 1;
}
