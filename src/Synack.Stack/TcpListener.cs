using System.Net.Sockets;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>A listening socket: each accepted connection is a new <see cref="TcpConnection"/>.</summary>
public sealed class TcpListener
{
    private readonly NetworkStack _stack;
    private readonly Listener _listener;
    private TaskCompletionSource? _ready;

    private TcpListener(NetworkStack stack, Listener listener)
    {
        _stack = stack;
        _listener = listener;
        listener.Ready = () => _ready?.TrySetResult();
    }

    public ushort Port => _listener.Port;

    /// <summary>Listens on <paramref name="port"/> (all the stack's addresses unless one is given).</summary>
    public static TcpListener Start(NetworkStack stack, ushort port, int backlog = 128, IpAddr? address = null, ConnectionOptions? options = null)
    {
        TcpListener? result = null;
        Invoke(stack, () =>
        {
            try
            {
                result = new TcpListener(stack, stack.Listen(address, port, backlog, options));
            }
            catch (InvalidOperationException ex)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse, ex.Message);
            }
        });
        return result!;
    }

    /// <summary>The next established connection from the accept queue.</summary>
    public async ValueTask<TcpConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            TcpConnection? accepted = null;
            Invoke(_stack, () =>
            {
                if (_listener.Closed) throw new SocketException((int)SocketError.OperationAborted, "the listener was stopped");
                if (_listener.AcceptQueue.TryDequeue(out var sc))
                {
                    sc.InAcceptQueue = false;
                    accepted = TcpConnection.Accepted(_stack, sc);
                }
                else
                {
                    _ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            });
            if (accepted is not null) return accepted;
            using (cancellationToken.Register(() => _ready!.TrySetCanceled(cancellationToken)))
            {
                await _ready!.Task;
            }
        }
    }

    /// <summary>Stops listening; connections not yet accepted are reset.</summary>
    public void Stop() => Invoke(_stack, () =>
    {
        _stack.StopListening(_listener);
        _ready?.TrySetResult();
    });

    private static void Invoke(NetworkStack stack, Action action)
    {
        if (stack.Loop is { } loop) loop.Invoke(action);
        else action();
    }
}
