using System.Net.Sockets;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>A listening socket, async: each accepted connection is a new <see cref="TcpConnection"/>.</summary>
public sealed class TcpListener
{
    private readonly TcpSocket _socket;

    private TcpListener(TcpSocket socket) => _socket = socket;

    /// <summary>The port listened on.</summary>
    public ushort Port => _socket.BoundPort ?? 0;
    /// <summary>The non-blocking socket underneath.</summary>
    public TcpSocket Socket => _socket;

    /// <summary>Listens on <paramref name="port"/> (1..65535; all the stack's addresses unless one is given), as a .NET developer names them.</summary>
    public static TcpListener Start(NetworkStack stack, int port, int backlog = 128, System.Net.IPAddress? address = null, ConnectionOptions? options = null) =>
        Start(stack, PortNumber.Checked(port, nameof(port)), backlog, address is null ? null : IpAddr.FromIPAddress(address), options);

    /// <summary>Listens on <paramref name="port"/> (all the stack's addresses unless one is given).</summary>
    public static TcpListener Start(NetworkStack stack, ushort port, int backlog = 128, IpAddr? address = null, ConnectionOptions? options = null)
    {
        TcpListener? result = null;
        StackCalls.Invoke(stack, () =>
        {
            var socket = TcpSocket.Create(stack, options);
            var error = socket.Bind(port, address);
            if (error == SocketError.Success) error = socket.Listen(backlog);
            if (error != SocketError.Success)
            {
                socket.Close();
                throw new SocketException((int)error, error == SocketError.AddressAlreadyInUse ? $"port {port} already has a listener" : $"cannot listen on {address?.ToString() ?? "*"}:{port}: {error}");
            }
            result = new TcpListener(socket);
        });
        return result!;
    }

    /// <summary>The next established connection from the accept queue.</summary>
    public async ValueTask<TcpConnection> AcceptAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            TcpSocket? accepted = null;
            Task? ready = null;
            StackCalls.Invoke(_socket, SocketCall.Accept, () =>
            {
                accepted = _socket.Accept(out var error);
                if (accepted is not null) return;
                if (error == SocketError.OperationAborted) throw new SocketException((int)error, "the listener was stopped");
                if (error != SocketError.WouldBlock) throw new SocketException((int)error);
                ready = _socket.WaitAsync(SocketReadiness.Readable, cancellationToken);
            });
            if (accepted is not null) return new TcpConnection(accepted);
            await ready!;
        }
    }

    /// <summary>
    /// Stops listening; connections not yet accepted are reset, a pending accept fails. Queued to the
    /// stack's loop, so it never blocks (Kestrel unbinds while it shuts down).
    /// </summary>
    public void Stop() => StackCalls.Post(_socket, SocketCall.Close, _socket.Close);
}
