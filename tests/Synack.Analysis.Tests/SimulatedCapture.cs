using Synack.Simulation;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>Two stacks on a simulated link, one of them tapped; whatever <c>main</c> does is captured and analyzed.</summary>
internal static class SimulatedCapture
{
    public static IReadOnlyList<Conversation> Run(int seed, LinkConditions link, bool tapServer, Func<NetworkStack, TcpListener, Task> main)
    {
        var net = new SimulatedNetwork(seed);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(link, client, server);
        using var ms = new MemoryStream();
        using (var tap = new CaptureTap(ms))
        {
            tap.Attach(tapServer ? server : client);
            var listener = TcpListener.Start(server, 80);
            net.Run(() => main(client, listener), TimeSpan.FromMinutes(5));
            net.RunFor(TimeSpan.FromSeconds(61)); // TIME-WAIT runs out
        }
        return CaptureAnalyzer.Analyze(CaptureReader.Read(ms.ToArray()));
    }
}
