using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Synack.Stack;

namespace Synack.AspNetCore;

public static class SynackWebHostBuilderExtensions
{
    /// <summary>
    /// Kestrel serves the endpoints whose addresses belong to <paramref name="stack"/> over Synack,
    /// and any other endpoint over the kernel's sockets as before.
    /// </summary>
    public static IWebHostBuilder UseSynack(this IWebHostBuilder builder, NetworkStack stack, SynackTransportOptions? options = null) =>
        builder.ConfigureServices(services => services.AddSingleton<IConnectionListenerFactory>(new SynackTransportFactory(stack, options)));
}
