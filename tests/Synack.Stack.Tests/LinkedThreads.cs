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

    /// <summary>One connection from the client to a listener of the server's on <paramref name="port"/>: both ends, and the listener.</summary>
    public static async Task<(TcpConnection Client, TcpConnection Server, TcpListener Listener)> ConnectAsync(StackThread client, StackThread server, ushort port)
    {
        var listener = TcpListener.Start(server.Stack, port);
        var accepting = listener.AcceptAsync();
        var c = await TcpConnection.ConnectAsync(client.Stack, IpAddr.Parse("192.0.2.2"), port).WaitAsync(TimeSpan.FromSeconds(30));
        var s = await accepting.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        return (c, s, listener);
    }

    private static NetworkStack Host(string name, string address, ConnectionOptions? options) =>
        new(new StackOptions { Name = name, Addresses = [IpAddr.Parse(address)], Connection = options ?? ConnectionOptions.Default });
}
