using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>The tests' two stacks on real threads: a client (192.0.2.1) and a server (192.0.2.2), each on a <see cref="StackThread"/>, joined by a <see cref="ThreadLink"/>.</summary>
internal static class LinkedThreads
{
    public static (StackThread Client, StackThread Server) Pair(ConnectionOptions? options = null)
    {
        var client = new StackThread(Host("client", "192.0.2.1", options));
        var server = new StackThread(Host("server", "192.0.2.2", options));
        var link = new ThreadLink();
        link.Attach(client);
        link.Attach(server);
        return (client, server);
    }

    private static NetworkStack Host(string name, string address, ConnectionOptions? options) =>
        new(new StackOptions { Name = name, Addresses = [IpAddr.Parse(address)], Connection = options ?? ConnectionOptions.Default });
}
