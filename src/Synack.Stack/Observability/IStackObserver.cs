using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>Watches a stack: packets in and out, drops, and every connection's state changes and timers.</summary>
public interface IStackObserver
{
    /// <summary>A packet arrived (before it is processed).</summary>
    void PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) { }
    /// <summary>A packet is sent.</summary>
    void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) { }
    /// <summary>An arriving packet was dropped, and why.</summary>
    void PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now) { }
    /// <summary>A connection changed state; <paramref name="cause"/> says why.</summary>
    void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now) { }
    /// <summary>A connection's timer fired.</summary>
    void TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now) { }
    /// <summary>One input (a packet, a timer, a user call) is fully processed: what it caused has been reported.</summary>
    void InputDone(NetworkStack stack, TimeSpan now) { }
}
