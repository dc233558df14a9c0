using System.Net;
using Microsoft.AspNetCore.Connections;
using Synack.Stack;
using Synack.Wire;

namespace Synack.AspNetCore;

/// <summary>
/// Kestrel's transport over a Synack <see cref="NetworkStack"/>: Kestrel binds an endpoint whose
/// address belongs to the stack here, and any other endpoint on the transport registered before
/// it (the kernel's sockets), so both can serve one app side by side.
/// </summary>
public sealed class SynackTransportFactory(NetworkStack stack, SynackTransportOptions? options = null)
    : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private readonly SynackTransportOptions _options = options ?? new SynackTransportOptions();

    public NetworkStack Stack { get; } = stack;

    public bool CanBind(EndPoint endpoint) =>
        endpoint is IPEndPoint ip && Stack.Options.Addresses.Contains(IpAddr.FromIPAddress(ip.Address));

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not IPEndPoint ip || !CanBind(endpoint))
            throw new NotSupportedException($"{endpoint} is not an address of the Synack stack '{Stack.Name}' ({string.Join(", ", Stack.Options.Addresses)})");
        if (Stack.Loop is not { ServesOtherThreads: true })
            throw new InvalidOperationException(
                $"Kestrel runs on the thread pool: give the stack '{Stack.Name}' a StackThread, or put it on a SimulatedNetwork with SettleThreadPool = true, before binding it");
        var listener = TcpListener.Start(Stack, (ushort)ip.Port, _options.Backlog, IpAddr.FromIPAddress(ip.Address), _options.Connection);
        return ValueTask.FromResult<IConnectionListener>(new SynackConnectionListener(listener, ip, _options));
    }
}
