using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Synack.AspNetCore;
using Synack.Simulation;
using Synack.Stack;

namespace Inventory.Tests;

/// <summary>
/// The service and a client on two Synack hosts joined by a simulated link, all on virtual time:
/// Kestrel, HttpClient and the retry policy are the real ones; the network and the clock are the
/// test's. One seed decides every random choice (loss, ISNs, ports, the policy's jitter).
/// </summary>
internal sealed class SimulatedWorld
{
    public const string ServerAddress = "192.0.2.10";
    public static readonly IReadOnlyDictionary<string, int> Shelf = new Dictionary<string, int> { ["apple"] = 12, ["pear"] = 0 };

    public SimulatedWorld(int seed, LinkConditions? link = null)
    {
        Network = new SimulatedNetwork(seed) { SettleThreadPool = true };
        Server = Network.AddHost("inventory", ServerAddress);
        ClientHost = Network.AddHost("shop", "192.0.2.20");
        Link = Network.Connect(link ?? new LinkConditions { Latency = TimeSpan.FromMilliseconds(20), Seed = seed }, Server, ClientHost);
        Jitter = new Random(seed);
    }

    public SimulatedNetwork Network { get; }
    public NetworkStack Server { get; private set; }
    public NetworkStack ClientHost { get; }
    public MemoryLink Link { get; }
    public TimeProvider Time => Network.TimeProvider;
    public Random Jitter { get; }
    public int Retries { get; private set; }

    /// <summary>Runs the test's body on the simulation's loop; virtual time passes only while it waits.</summary>
    public void Run(Func<Task> body) => Network.Run(body, TimeSpan.FromHours(1));

    /// <summary>The inventory service on Kestrel, served by <paramref name="host"/> (the server unless given).</summary>
    public async Task<WebApplication> StartServiceAsync(NetworkStack? host = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSynack(host ?? Server);
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse(ServerAddress), 80));
        var app = builder.Build();
        app.MapInventory(Shelf);
        await app.StartAsync();
        return app;
    }

    public StockClient CreateClient(StockClientPolicy? policy = null)
    {
        var http = new HttpClient(SynackHttp.CreateHandler(ClientHost)) { BaseAddress = new Uri($"http://{ServerAddress}/") };
        return new StockClient(http, (policy ?? new StockClientPolicy()) with { Randomizer = Jitter.NextDouble, OnRetry = () => Retries++ }, Time);
    }

    /// <summary>
    /// The server's machine dies and a new one takes its address, knowing nothing of the old
    /// connections: packets for them now draw a reset.
    /// </summary>
    public NetworkStack ReplaceServer()
    {
        Link.Detach(Server);
        Server = Network.AddHost("inventory-rebooted", ServerAddress);
        Link.Attach(Server);
        return Server;
    }
}
