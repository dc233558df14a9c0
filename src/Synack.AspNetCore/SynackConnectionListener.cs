using System.Net;
using SocketError = System.Net.Sockets.SocketError;
using SocketException = System.Net.Sockets.SocketException;
using Microsoft.AspNetCore.Connections;
using Synack.Stack;

namespace Synack.AspNetCore;

/// <summary>One Kestrel endpoint on a Synack listener.</summary>
internal sealed class SynackConnectionListener(TcpListener listener, IPEndPoint endpoint, SynackTransportOptions options) : IConnectionListener
{
    private readonly CancellationTokenSource _unbound = new();

    public EndPoint EndPoint { get; } = endpoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
        try
        {
            var connection = await listener.AcceptAsync(both.Token);
            var context = new SynackConnectionContext(connection, options);
            context.Start();
            return context;
        }
        catch (OperationCanceledException) when (_unbound.IsCancellationRequested)
        {
            return null; // unbound: Kestrel stops accepting
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
        {
            return null;
        }
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.Cancel();
        listener.Stop();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (!_unbound.IsCancellationRequested) _ = UnbindAsync();
        _unbound.Dispose();
        return ValueTask.CompletedTask;
    }
}
