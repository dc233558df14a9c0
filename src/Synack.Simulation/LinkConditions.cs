using Synack.Stack;

namespace Synack.Simulation;

/// <summary>How a <see cref="MemoryLink"/> treats the packets it carries. Every random choice comes from the seed.</summary>
public sealed record LinkConditions
{
    /// <summary>One-way propagation delay.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Bytes per second each sender can put on the link; 0 is unlimited.</summary>
    public long RateBytesPerSecond { get; init; }
    /// <summary>Packets a sender's queue holds while the link is busy; beyond it, tail drop.</summary>
    public int QueueLimit { get; init; } = 1000;
    /// <summary>Probability (0 to 1, not percent) that a packet is lost: 0.01 loses one packet in a hundred.</summary>
    public double Loss { get; init; }
    /// <summary>Probability (0 to 1) that a packet arrives twice.</summary>
    public double Duplication { get; init; }
    /// <summary>Probability that a packet is held back by up to <see cref="ReorderDelay"/>, letting later ones pass.</summary>
    public double Reordering { get; init; }
    /// <summary>The most a reordered packet is held back.</summary>
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    /// <summary>Probability (0 to 1) that one byte of a packet is flipped (the receiver's checksum catches it).</summary>
    public double Corruption { get; init; }
    /// <summary>The seed of this link's random draws; null (the default) derives it from the network's seed, so one seed decides the whole run.</summary>
    public int? Seed { get; init; }
}
