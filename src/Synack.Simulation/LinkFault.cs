using Synack.Stack;

namespace Synack.Simulation;

/// <summary>What an aimed fault does to the packets it matches.</summary>
public enum LinkFault
{
    /// <summary>The packet is lost.</summary>
    Drop,
    /// <summary>The packet arrives twice.</summary>
    Duplicate,
    /// <summary>The packet arrives later by the rule's delay, letting later packets pass.</summary>
    Delay,
    /// <summary>Keep the packet until <see cref="MemoryLink.ReleaseHeld"/>: later packets overtake it.</summary>
    Hold,
    /// <summary>Flip a bit of the packet's last byte (payload if any, else the TCP header): the receiver's checksum must catch it.</summary>
    Corrupt,
}
