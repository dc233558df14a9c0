using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>One line of <see cref="NetworkStack.Snapshot"/>: for a listener the queues are accept queue and backlog, and there is no tuple.</summary>
public sealed record SocketSnapshot(TcpState State, string Local, string Remote, int ReceiveQueue, int SendQueue, IReadOnlyList<string> Timers, FourTuple? Tuple)
{
    /// <summary>One line as <c>ss -tan</c> prints it.</summary>
    public override string ToString() =>
        $"{State.ToRfcName(),-12} {ReceiveQueue,7} {SendQueue,7} {Local,-22} {Remote,-22} {string.Join(",", Timers)}";
}
