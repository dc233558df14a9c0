using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>Several observers of one stack (a capture tap and a trace, say), called in the order added.</summary>
internal sealed class ObserverList(IStackObserver first, IStackObserver second) : IStackObserver
{
    private readonly List<IStackObserver> _all = [first, second];

    public void Add(IStackObserver o) => _all.Add(o);

    public void PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        foreach (var o in _all) o.PacketIn(stack, packet, now);
    }

    public void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        foreach (var o in _all) o.PacketOut(stack, packet, now);
    }

    public void PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now)
    {
        foreach (var o in _all) o.PacketDropped(stack, packet, reason, now);
    }

    public void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
    {
        foreach (var o in _all) o.StateChanged(stack, tuple, from, to, cause, now);
    }

    public void TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now)
    {
        foreach (var o in _all) o.TimerFired(stack, tuple, timer, now);
    }

    public void InputDone(NetworkStack stack, TimeSpan now)
    {
        foreach (var o in _all) o.InputDone(stack, now);
    }
}
