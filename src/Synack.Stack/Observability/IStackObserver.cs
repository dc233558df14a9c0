using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>Watches a stack: packets in and out, drops, and every connection's state changes and timers.</summary>
public interface IStackObserver
{
    void PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) { }
    void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) { }
    void PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now) { }
    void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now) { }
    void TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now) { }
    /// <summary>One input (a packet, a timer, a user call) is fully processed: what it caused has been reported.</summary>
    void InputDone(NetworkStack stack, TimeSpan now) { }
}
