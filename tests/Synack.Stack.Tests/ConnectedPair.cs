using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>A client at 192.0.2.1 connected to a server's port 80 at 192.0.2.2 over one link: the start of most attack tests.</summary>
internal static class ConnectedPair
{
    public static (NetworkStack Client, NetworkStack Server, TcpConnection C, TcpConnection S) Open(SimulatedNetwork net, ConnectionOptions? options = null, int latencyMs = 5)
    {
        var client = net.AddHost("client", "192.0.2.1", options);
        var server = net.AddHost("server", "192.0.2.2", options);
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(latencyMs) }, client, server);
        var listener = TcpListener.Start(server, 80);
        var (c, s) = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            return (c, await accept);
        }, TimeSpan.FromSeconds(5));
        return (client, server, c, s);
    }
}
