using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Synack.Stack;

namespace Synack.AspNetCore;

/// <summary>Puts Synack under Kestrel.</summary>
public static class SynackWebHostBuilderExtensions
{
    /// <summary>
    /// Kestrel serves the endpoints whose addresses belong to <paramref name="stack"/> over Synack,
    /// and any other endpoint over the kernel's sockets as before.
    /// </summary>
    public static IWebHostBuilder UseSynack(this IWebHostBuilder builder, NetworkStack stack, SynackTransportOptions? options = null) =>
        builder.ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory>(new SynackTransportFactory(stack, options)));

    /// <summary>
    /// The same over the shards of a multi-queue device (<see cref="ShardSet"/>): Kestrel listens on
    /// every shard, and each connection stays on the shard the device gave it.
    /// </summary>
    public static IWebHostBuilder UseSynack(this IWebHostBuilder builder, IReadOnlyList<NetworkStack> shards, SynackTransportOptions? options = null) =>
        builder.ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory>(new SynackTransportFactory(shards, options)));
}
