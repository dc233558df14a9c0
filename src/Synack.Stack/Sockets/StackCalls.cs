using System.IO.Pipelines;

namespace Synack.Stack;

/// <summary>Runs socket calls on the stack's loop, from whatever thread the application is on.</summary>
internal static class StackCalls
{
    public static void Invoke(NetworkStack stack, Action action) => Invoke(stack, long.MaxValue, action);

    /// <summary>
    /// A call about <paramref name="socket"/>: in a simulation that settles the thread pool, calls
    /// waiting at once are taken in the order of host, connection and <paramref name="call"/>.
    /// </summary>
    public static void Invoke(TcpSocket socket, SocketCall call, Action action) => Invoke(socket.Stack, Order(socket, call), action);

    /// <summary>A call nobody waits for (close, stop listening): queued to the loop from other threads, so it never blocks.</summary>
    public static void Post(TcpSocket socket, SocketCall call, Action action) => Dispatch(socket.Stack, Order(socket, call), action, wait: false);

    private static void Invoke(NetworkStack stack, long order, Action action) => Dispatch(stack, order, action, wait: true);

    private static void Dispatch(NetworkStack stack, long order, Action action, bool wait)
    {
        switch (stack.Loop)
        {
            case SimulatedNetwork.LoopContext simulated when wait:
                simulated.Network.RunOnLoop(action, order);
                break;
            case SimulatedNetwork.LoopContext simulated:
                simulated.Network.Post(order, action);
                break;
            case StackThread thread when !wait:
                thread.Post(action);
                break;
            case { } loop:
                loop.Invoke(action);
                break;
            default:
                action();
                break;
        }
    }

    /// <summary>
    /// Completes a wait on <paramref name="socket"/>. In a simulation that settles the thread pool, the
    /// waiter is woken at a settle point of its own, in order: what one woken task does (hand a new
    /// connection to HttpClient's pool, say) is done before the next one wakes, whichever thread is faster.
    /// </summary>
    public static void Wake(TcpSocket socket, TaskCompletionSource waiter)
    {
        if (Settling(socket) is { } network) network.Defer(Order(socket, SocketCall.Wake), () => waiter.TrySetResult());
        else waiter.TrySetResult();
    }

    /// <summary>Where work that feeds <paramref name="socket"/> should run (see <see cref="TcpConnection.Scheduler"/>).</summary>
    public static PipeScheduler Scheduler(TcpSocket socket) =>
        Settling(socket) is { } network ? new LoopScheduler(network, Order(socket, SocketCall.Pump)) : PipeScheduler.ThreadPool;

    /// <summary>The simulation the socket's stack runs on, when it settles the thread pool; otherwise null.</summary>
    private static SimulatedNetwork? Settling(TcpSocket socket) =>
        socket.Stack.Loop is SimulatedNetwork.LoopContext { Network: { SettleThreadPool: true } network } ? network : null;

    // Host, then the connection's ports and the low bits of the peer's address (a tie only costs
    // first-come order), then the kind of call. Nothing here may depend on the process (no string hashes).
    private static long Order(TcpSocket socket, SocketCall call)
    {
        long connection = 0;
        if (socket.Tuple is { } t) connection = (long)t.LocalPort << 32 | (long)t.RemotePort << 16 | LowBits(t.RemoteAddress);
        else if (socket.BoundPort is ushort port) connection = (long)port << 32;
        return (long)(socket.Stack.Ordinal & 0x7F) << 56 | (connection & 0xFFFF_FFFF_FFFF) << 8 | (long)call;
    }

    private static long LowBits(Synack.Wire.IpAddr address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteTo(bytes);
        return bytes[address.Length - 2] << 8 | bytes[address.Length - 1];
    }

    private sealed class LoopScheduler(SimulatedNetwork network, long order) : PipeScheduler
    {
        public override void Schedule(Action<object?> action, object? state) => network.Post(order, () => action(state));
    }
}

/// <summary>The kinds of socket call, in the order a settling simulation takes them when they wait together.</summary>
internal enum SocketCall
{
    Connect,
    Accept,
    Receive,
    Send,
    Pump,
    Wake,
    Shutdown,
    Close,
    Abort,
    Info,
}
