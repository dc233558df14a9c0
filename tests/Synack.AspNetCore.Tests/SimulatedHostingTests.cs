using System.Diagnostics;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Synack.Simulation;
using Synack.Stack;
using Synack.Wire;
using Xunit.Abstractions;

namespace Synack.AspNetCore.Tests;

/// <summary>
/// A minimal API on Kestrel and HttpClient, each on a Synack stack, the stacks joined by the
/// simulated link on virtual time: the run is as fast as the work, and a seed gives the same run.
/// </summary>
[Collection(nameof(SimulatedHostingTests))]
[CollectionDefinition(nameof(SimulatedHostingTests), DisableParallelization = true)]
public sealed class SimulatedHostingTests(ITestOutputHelper output)
{
    [Fact]
    public void A_thousand_requests_over_a_lossy_reordering_link_are_all_answered_and_the_seed_replays_the_run()
    {
        ServeRequests(seed: 1, requests: 20); // warm-up: the first run of Kestrel in a process is mostly the JIT's
        var wall = Stopwatch.StartNew();
        var first = ServeRequests(seed: 7, requests: 1000);
        var firstWall = wall.Elapsed;
        var second = ServeRequests(seed: 7, requests: 1000);
        output.WriteLine($"run 1: {first.Packets.Count} packets, {first.Lost} lost, {first.Reordered} reordered, {first.VirtualTime} virtual in {firstWall.TotalSeconds:F1} s wall; run 2 in {(wall.Elapsed - firstWall).TotalSeconds:F1} s; unsettled steps {first.Unsettled}/{second.Unsettled}");
        Assert.Equal(1000, first.Answered);
        Assert.True(first.Lost > 0 && first.Reordered > 0, $"the link should have lost ({first.Lost}) and reordered ({first.Reordered}) packets");
        Assert.Equal(first.VirtualTime, second.VirtualTime);
        Assert.Equal(first.Packets.Count, second.Packets.Count);
        for (int i = 0; i < first.Packets.Count; i++) Assert.Equal(first.Packets[i], second.Packets[i]);
        var other = ServeRequests(seed: 8, requests: 1000);
        Assert.Equal(1000, other.Answered);
        Assert.NotEqual(first.Packets, other.Packets); // the seed, not luck, made the runs alike
    }

    [Fact]
    public void Clients_in_parallel_over_a_lossy_link_all_get_their_own_answers()
    {
        // Correct, not replayed: HttpClient pairs requests with the connections it opens by a race of
        // its own threads, so which request goes on which connection can differ from run to run.
        var outcome = ServeRequests(seed: 11, requests: 400, parallel: 8);
        output.WriteLine($"{outcome.Packets.Count} packets, {outcome.Lost} lost, {outcome.VirtualTime} virtual");
        Assert.Equal(400, outcome.Answered);
        Assert.True(outcome.Lost > 0);
    }

    [Fact]
    public void Https_with_http2_and_cleartext_http2_work_over_a_lossy_simulated_link()
    {
        var net = new SimulatedNetwork(6) { SettleThreadPool = true };
        var server = net.AddHost("server", "192.0.2.2");
        var client = net.AddHost("client", "192.0.2.1");
        var link = net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(10), Loss = 0.02, Seed = 6 }, server, client);
        net.Run(async () =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseSynack(server);
            builder.WebHost.ConfigureKestrel(k =>
            {
                k.Listen(IPAddress.Parse("192.0.2.2"), 443, l => l.UseHttps(TestCertificate.ForServer)); // ALPN: h2 or http/1.1
                k.Listen(IPAddress.Parse("192.0.2.2"), 8080, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2);
            });
            await using var app = builder.Build();
            app.MapGet("/square/{n:int}", (int n) => $"{n}² = {(long)n * n}");
            await app.StartAsync();

            var tls = SynackHttp.CreateHandler(client);
            tls.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => TestCertificate.IsOurs(cert);
            using var https = new HttpClient(tls) { BaseAddress = new Uri("https://192.0.2.2/"), DefaultRequestVersion = HttpVersion.Version20 };
            using var h2c = new HttpClient(SynackHttp.CreateHandler(client))
            {
                BaseAddress = new Uri("http://192.0.2.2:8080/"),
                DefaultRequestVersion = HttpVersion.Version20,
                DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            };
            // Forty streams at once on one HTTP/2 connection, three rounds, over each client.
            foreach (var (http, _) in new[] { https, h2c }.SelectMany(h => Enumerable.Range(0, 3).Select(r => (h, r))))
            {
                var responses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => http.GetAsync($"square/{i}")));
                for (int i = 0; i < responses.Length; i++)
                {
                    Assert.Equal(HttpVersion.Version20, responses[i].Version);
                    Assert.Equal($"{i}² = {(long)i * i}", await responses[i].Content.ReadAsStringAsync());
                }
            }
            await app.StopAsync();
        }, TimeSpan.FromHours(1));
        Assert.True(link.Lost > 0, "the link should have lost packets");
        Assert.Equal(2, client.Statistics.ConnectionsOpened); // one connection each: the streams were multiplexed
        output.WriteLine($"{link.Delivered} packets delivered, {link.Lost} lost, {net.Now} virtual");
    }

    private sealed record RunOutcome(int Answered, List<string> Packets, long Lost, long Reordered, TimeSpan VirtualTime, long Unsettled);

    private static RunOutcome ServeRequests(int seed, int requests, int parallel = 1)
    {
        var net = new SimulatedNetwork(seed) { SettleThreadPool = true };
        var server = net.AddHost("server", "192.0.2.2");
        var client = net.AddHost("client", "192.0.2.1");
        var link = net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(10), Loss = 0.01, Reordering = 0.01, Seed = seed }, server, client);
        var packets = new List<string>();
        link.Tap = (from, packet, now) => packets.Add(Describe(from, packet.Span, now));
        int answered = 0;
        net.Run(async () =>
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseSynack(server);
            builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Parse("192.0.2.2"), 80));
            await using var app = builder.Build();
            app.MapGet("/square/{n:int}", (int n) => $"{n}² = {(long)n * n}");
            await app.StartAsync();
            using (var http = new HttpClient(SynackHttp.CreateHandler(client)) { BaseAddress = new Uri("http://192.0.2.2/") })
            {
                await Task.WhenAll(Enumerable.Range(0, parallel).Select(async lane =>
                {
                    for (int i = lane; i < requests; i += parallel)
                    {
                        var body = await http.GetStringAsync($"square/{i}");
                        Assert.Equal($"{i}² = {(long)i * i}", body);
                        answered++; // on the loop: no race
                    }
                }));
            }
            await app.StopAsync();
        }, TimeSpan.FromHours(1));
        return new RunOutcome(answered, packets, link.Lost, link.Reordered, net.Now, net.UnsettledSteps);
    }

    // Everything but the payload's bytes: Kestrel's Date header follows the real clock.
    private static string Describe(INetworkNode from, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        IpHeader.TryParse(packet, out var ip, out _);
        var segment = packet.Slice(ip.HeaderLength, ip.PayloadLength);
        TcpHeader.TryParse(segment, out var tcp, out _);
        return $"{now.Ticks} {ip.Source}:{tcp.SourcePort} > {ip.Destination}:{tcp.DestinationPort} {tcp.Flags} seq {tcp.Seq} ack {tcp.Ack} win {tcp.Window} len {segment.Length - tcp.HeaderLength}";
    }
}
