using System.Net;
using Microsoft.AspNetCore.Connections;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.AspNetCore;

/// <summary>
/// Kestrel's transport over a Synack <see cref="NetworkStack"/>: Kestrel binds an endpoint whose
/// address belongs to the stack here, and any other endpoint on the transport registered before
/// it (the kernel's sockets), so both can serve one app side by side. Given the shards of a
/// <see cref="ShardSet"/>, it listens on every shard and Kestrel accepts from all of them.
/// </summary>
public sealed class SynackTransportFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SynackTransportOptions _options;
    private readonly SendQueue.Set _sendQueues = new();

    /// <summary>Kestrel's listeners for endpoints on <paramref name="stack"/>.</summary>
    public SynackTransportFactory(NetworkStack stack, SynackTransportOptions? options = null) : this([stack], options) { }

    /// <summary>Kestrel's listeners for endpoints on <paramref name="shards"/>: each endpoint listens on every shard.</summary>
    public SynackTransportFactory(IReadOnlyList<NetworkStack> shards, SynackTransportOptions? options = null)
    {
        if (shards.Count == 0) throw new ArgumentException("at least one stack", nameof(shards));
        Shards = shards;
        _options = options ?? new SynackTransportOptions();
    }

    /// <summary>The (first) stack.</summary>
    public NetworkStack Stack => Shards[0];

    /// <summary>Every stack Kestrel listens on: one, or the shards of a multi-queue device.</summary>
    public IReadOnlyList<NetworkStack> Shards { get; }

    /// <summary>True when the endpoint's address is one of the stack's.</summary>
    public bool CanBind(EndPoint endpoint) =>
        endpoint is IPEndPoint ip && Stack.Options.Addresses.Contains(IpAddr.FromIPAddress(ip.Address));

    // Kestrel's socket transport sets TCP_NODELAY on every connection it accepts (NoDelay, on by default):
    // its writes are whole responses and frames, and Nagle would hold an HTTP/2 stream's small frame
    // behind the ACK of the last one.
    private ConnectionOptions AcceptedOptions(NetworkStack shard)
    {
        var options = _options.Connection ?? shard.Options.Connection;
        return _options.NoDelay ? options with { Nagle = false } : options;
    }

    /// <summary>Starts listening on <paramref name="endpoint"/> over Synack.</summary>
    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip || !CanBind(endpoint))
            throw new NotSupportedException($"{endpoint} is not an address of the Synack stack '{Stack.Name}' ({string.Join(", ", Stack.Options.Addresses)})");
        foreach (var shard in Shards)
        {
            if (shard.Loop is not { ServesOtherThreads: true })
                throw new InvalidOperationException(
                    $"Kestrel runs on the thread pool: give the stack '{shard.Name}' a StackThread, or put it on a SimulatedNetwork with SettleThreadPool = true, before binding it");
        }
        var listeners = Shards.Select(shard => TcpListener.Start(shard, (ushort)ip.Port, _options.Backlog, IpAddr.FromIPAddress(ip.Address), AcceptedOptions(shard))).ToArray();
        return ValueTask.FromResult<IConnectionListener>(new SynackConnectionListener(listeners, ip, _options, _sendQueues));
    }
}
