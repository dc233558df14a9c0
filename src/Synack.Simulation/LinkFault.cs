using Synack.Stack;

namespace Synack.Simulation;

/// <summary>What an aimed fault does to the packets it matches.</summary>
public enum LinkFault
{
    Drop,
    Duplicate,
    Delay,
    /// <summary>Keep the packet until <see cref="MemoryLink.ReleaseHeld"/>: later packets overtake it.</summary>
    Hold,
    /// <summary>Flip a bit of the packet's last byte (payload if any, else the TCP header): the receiver's checksum must catch it.</summary>
    Corrupt,
}
