using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// Two bare connections, a client and a server, each on a host of its own (no stack around it), on
/// the simulated network. Exact and scriptable; the differential check holds the stack to it.
/// </summary>
public sealed class BareRun : ScenarioRun
{
    private readonly BareEndpoint _client;
    private readonly BareEndpoint _server;

    /// <param name="link">The link; by default 10 ms one way and nothing lost.</param>
    public BareRun(ConnectionOptions? clientOptions = null, ConnectionOptions? serverOptions = null,
        IIsnGenerator? clientIsn = null, IIsnGenerator? serverIsn = null, LinkConditions? link = null)
        : base(new SimulatedNetwork(link?.Seed ?? 1), link ?? new LinkConditions { Latency = TimeSpan.FromMilliseconds(10) })
    {
        _client = new BareEndpoint(this, "client", IpAddr.Parse("192.0.2.1"), 40000, clientOptions ?? ConnectionOptions.Default,
            clientIsn ?? new Rfc6528IsnGenerator(new byte[32]));
        _server = new BareEndpoint(this, "server", IpAddr.Parse("192.0.2.2"), 80, serverOptions ?? ConnectionOptions.Default,
            serverIsn ?? new Rfc6528IsnGenerator(Enumerable.Repeat((byte)1, 32).ToArray()));
        _client.Peer = _server;
        _server.Peer = _client;
        MemoryLink.Attach(Network.AddNode(_client));
        MemoryLink.Attach(Network.AddNode(_server));
    }

    /// <summary>The client endpoint.</summary>
    public override BareEndpoint Client => _client;
    /// <summary>The server endpoint.</summary>
    public override BareEndpoint Server => _server;
}
