using System.Net;
using SocketError = System.Net.Sockets.SocketError;
using SocketException = System.Net.Sockets.SocketException;
using Microsoft.AspNetCore.Connections;
using Synack.Stack;

namespace Synack.AspNetCore;

/// <summary>
/// One Kestrel endpoint on Synack listeners: one stack's, or one on each shard. With shards, one
/// accept waits on every shard at once; whichever shard's connection comes first is returned, and
/// that shard's accept starts again (the others' stay pending for the next call).
/// </summary>
internal sealed class SynackConnectionListener(TcpListener[] listeners, IPEndPoint endpoint, SynackTransportOptions options, SendQueue.Set sendQueues) : IConnectionListener
{
    private readonly CancellationTokenSource _unbound = new();
    private readonly Task<TcpConnection>?[] _pending = new Task<TcpConnection>?[listeners.Length];

    public EndPoint EndPoint { get; } = endpoint;

    public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _unbound.Token);
        try
        {
            var connection = listeners.Length == 1 ? await listeners[0].AcceptAsync(both.Token) : await AnyShardAsync(both.Token);
            var context = new SynackConnectionContext(connection, options, sendQueues.Next());
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

    // The shards' accepts outlive one call (a connection one of them accepts must not be lost when
    // another's came first), so they wait on the unbinding, not on the caller's token.
    private async Task<TcpConnection> AnyShardAsync(CancellationToken cancellationToken)
    {
        for (int i = 0; i < listeners.Length; i++) _pending[i] ??= listeners[i].AcceptAsync(_unbound.Token).AsTask();
        var done = await Task.WhenAny(_pending!).WaitAsync(cancellationToken);
        int which = Array.IndexOf(_pending, done);
        _pending[which] = null;
        return await done;
    }

    public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
    {
        _unbound.Cancel();
        foreach (var listener in listeners) listener.Stop();
        return ValueTask.CompletedTask;
    }

    public ValueTask DisposeAsync()
    {
        if (!_unbound.IsCancellationRequested) _ = UnbindAsync();
        _unbound.Dispose();
        return ValueTask.CompletedTask;
    }
}
