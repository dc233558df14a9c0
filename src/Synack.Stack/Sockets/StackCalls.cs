using System.IO.Pipelines;

namespace Synack.Stack;

/// <summary>Runs socket calls on the stack's loop, from whatever thread the application is on.</summary>
internal static class StackCalls
{
    public static void Invoke(NetworkStack stack, Action action)
    {
        if (stack.Loop is { } loop) loop.Invoke(action);
        else action();
    }

    /// <summary>A call about <paramref name="socket"/>, waited for; calls waiting together are taken by connection and <paramref name="call"/>.</summary>
    public static void Invoke(TcpSocket socket, SocketCall call, Action action)
    {
        if (socket.Stack.Loop is { } loop) loop.Invoke(action, Order(socket, call));
        else action();
    }

    /// <summary><see cref="Invoke(TcpSocket, SocketCall, Action)"/> with the call's state passed along, so nothing is allocated per call.</summary>
    public static void Invoke<TState>(TcpSocket socket, SocketCall call, Action<TState> action, TState state)
    {
        if (socket.Stack.Loop is { } loop) loop.Invoke(action, state, Order(socket, call));
        else action(state);
    }

    /// <summary>A call nobody waits for (close, stop listening): queued to the loop from other threads, so it never blocks.</summary>
    public static void Post(TcpSocket socket, SocketCall call, Action action)
    {
        if (socket.Stack.Loop is { } loop) loop.Post(action, Order(socket, call));
        else action();
    }

    /// <summary>
    /// Completes a wait on <paramref name="socket"/>, where its loop says: a simulation that settles the
    /// thread pool wakes each waiter at a point of its own, in order, so what one woken task does (hand a
    /// new connection to HttpClient's pool, say) is done before the next one wakes.
    /// </summary>
    public static void Wake(TcpSocket socket, TaskCompletionSource waiter)
    {
        if (socket.Stack.Loop is { } loop) loop.Wake(() => waiter.TrySetResult(), Order(socket, SocketCall.Wake));
        else waiter.TrySetResult();
    }

    /// <summary><see cref="Wake(TcpSocket, TaskCompletionSource)"/> for a wait that <paramref name="complete"/> completes, given the wait.</summary>
    public static void Wake<TWait>(TcpSocket socket, Action<TWait> complete, TWait wait)
    {
        if (socket.Stack.Loop is { } loop) loop.Wake(complete, wait, Order(socket, SocketCall.Wake));
        else complete(wait);
    }

    /// <summary>Where work that feeds <paramref name="socket"/> should run (see <see cref="TcpConnection.Scheduler"/>).</summary>
    public static PipeScheduler Scheduler(TcpSocket socket) =>
        socket.Stack.Loop is { } loop ? loop.Scheduler(Order(socket, SocketCall.Pump)) : PipeScheduler.ThreadPool;

    // The connection's ports and the low bits of the peer's address (a tie only costs first-come
    // order), then the kind of call; the loop adds the host above bit 56. Nothing here may depend on
    // the process (no string hashes).
    private static long Order(TcpSocket socket, SocketCall call)
    {
        long connection = 0;
        if (socket.Tuple is { } t) connection = (long)t.LocalPort << 32 | (long)t.RemotePort << 16 | LowBits(t.RemoteAddress);
        else if (socket.BoundPort is ushort port) connection = (long)port << 32;
        return (connection & 0xFFFF_FFFF_FFFF) << 8 | (long)call;
    }

    private static long LowBits(Synack.Wire.IpAddr address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.WriteTo(bytes);
        return bytes[address.Length - 2] << 8 | bytes[address.Length - 1];
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
