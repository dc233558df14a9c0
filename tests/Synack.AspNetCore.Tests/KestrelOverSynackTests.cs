using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.AspNetCore.Tests;

/// <summary>
/// A minimal API on Kestrel, served by one Synack stack, and HttpClient on another, the two stacks on
/// threads of their own joined in memory: real ASP.NET Core and real SocketsHttpHandler, no kernel
/// TCP between them. Real time, so every wait is bounded.
/// </summary>
public sealed class KestrelOverSynackTests : IAsyncLifetime
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);
    private readonly NetworkStack _clientStack = new(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")] });
    private readonly NetworkStack _serverStack = new(new StackOptions { Name = "server", Addresses = [IpAddr.Parse("192.0.2.2")] });
    private readonly StackThread _clientThread;
    private readonly StackThread _serverThread;
    private WebApplication _app = null!;
    private readonly CountingMemoryPool _pool = new();
    private readonly TaskCompletionSource _drainStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _slowStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _releaseSlow = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<Exception?> _bodyOutcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _bulkWritesDoneAtOnce = -1;

    public KestrelOverSynackTests()
    {
        _clientThread = new StackThread(_clientStack);
        _serverThread = new StackThread(_serverStack);
        var link = new ThreadLink();
        link.Attach(_clientThread);
        link.Attach(_serverThread);
    }

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseSynack(_serverStack, new SynackTransportOptions { MemoryPool = _pool });
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Parse("192.0.2.2"), 80);
            k.Listen(IPAddress.Parse("192.0.2.2"), 8080, l => l.Protocols = Microsoft.AspNetCore.Server.Kestrel.Core.HttpProtocols.Http2); // h2c
            // Kestrel's own TLS over the Synack stream; ALPN picks HTTP/2 or HTTP/1.1.
            k.Listen(IPAddress.Parse("192.0.2.2"), 443, l => l.UseHttps(TestCertificate.ForServer));
        });
        _app = builder.Build();
        _app.MapGet("/hello/{n:int}", (int n) => $"hello {n}");
        _app.MapGet("/abort", (HttpContext context) => context.Abort());
        _app.MapGet("/nodelay", (HttpContext context) => context.Features.Get<TcpConnection>() is { } c ? $"nodelay {c.Protocol.NoDelay}" : "no connection feature");
        _app.MapGet("/waits", (HttpContext context) => context.Features.Get<TcpConnection>()?.ContinuationScheduler?.GetType().Name ?? "the thread pool");
        _app.MapGet("/slow", async () =>
        {
            _slowStarted.TrySetResult();
            await _releaseSlow.Task;
            return "finished";
        });
        _app.MapGet("/bulk", async (HttpResponse response) =>
        {
            // Eight 64 KiB writes, each a flush that fills the transport's pipe to its limit: counted,
            // those the transport took before the write returned (its pump ran on this thread).
            var chunk = new byte[64 * 1024];
            response.ContentLength = 8L * chunk.Length;
            int atOnce = 0;
            for (int i = 0; i < 8; i++)
            {
                var write = response.Body.WriteAsync(chunk);
                if (write.IsCompletedSuccessfully) atOnce++;
                await write;
            }
            Volatile.Write(ref _bulkWritesDoneAtOnce, atOnce);
        });
        _app.MapPost("/drain", async (HttpRequest request) =>
        {
            _drainStarted.TrySetResult();
            try
            {
                var buffer = new byte[16 * 1024];
                while (await request.Body.ReadAsync(buffer) > 0) { }
                _bodyOutcome.TrySetResult(null);
            }
            catch (Exception e)
            {
                _bodyOutcome.TrySetResult(e);
            }
        });
        _app.MapPost("/sha256", async (HttpRequest request) =>
        {
            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = await request.Body.ReadAsync(buffer)) > 0) sha.AppendData(buffer, 0, read);
            return Convert.ToHexStringLower(sha.GetHashAndReset());
        });
        using var cts = new CancellationTokenSource(Limit);
        await _app.StartAsync(cts.Token);
    }

    public async Task DisposeAsync()
    {
        using var cts = new CancellationTokenSource(Limit);
        await _app.StopAsync(cts.Token);
        await _app.DisposeAsync();
        _clientThread.Dispose();
        _serverThread.Dispose();
    }

    private HttpClient Client() => new(SynackHttp.CreateHandler(_clientStack)) { BaseAddress = new Uri("http://192.0.2.2/"), Timeout = Limit };

    /// <summary>Waits (bounded) for the stacks to reach what the test expects; real time cannot be stepped.</summary>
    private static async Task Until(Func<bool> condition, Func<string> what)
    {
        var deadline = DateTime.UtcNow + Limit;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for {what()}");
            await Task.Delay(10);
        }
    }

    private string Snapshots() =>
        "server:\n" + string.Join("\n", _serverStack.Snapshot()) + "\nclient:\n" + string.Join("\n", _clientStack.Snapshot());

    [Fact]
    public async Task A_hundred_requests_on_one_keep_alive_connection_take_one_handshake()
    {
        using var client = Client();
        for (int i = 0; i < 100; i++) Assert.Equal($"hello {i}", await client.GetStringAsync($"hello/{i}"));
        Assert.Equal(1, _clientStack.Statistics.ConnectionsOpened);
        Assert.Equal(1, _serverStack.Statistics.ConnectionsAccepted);
    }

    [Fact]
    public async Task An_idle_keep_alive_connection_holds_no_pipe_block_between_requests()
    {
        using var client = Client();
        for (int i = 0; i < 10; i++) Assert.Equal($"hello {i}", await client.GetStringAsync($"hello/{i}"));
        // The connection stays open, waiting for the next request: the transport waits for data
        // before it takes a block, and the response's blocks went back once sent.
        Assert.Equal(1, _serverStack.ConnectionCount);
        await Until(() => _pool.Outstanding == 0, () => $"the pipes to give back their blocks ({_pool.Outstanding} out)");
        Assert.Equal("hello 10", await client.GetStringAsync("hello/10")); // and the next request still finds its way
        Assert.Equal(1, _serverStack.Statistics.ConnectionsAccepted);
    }

    [Fact]
    public async Task Accepted_connections_turn_nagle_off_as_kestrels_socket_transport_does()
    {
        using var client = Client();
        Assert.Equal("nodelay True", await client.GetStringAsync("nodelay"));
    }

    [Fact]
    public async Task On_a_live_loop_the_connections_pumps_resume_in_the_transports_send_queue_as_kestrels_socket_transport_runs_its_completions()
    {
        using var client = Client();
        Assert.Equal(nameof(SendQueue), await client.GetStringAsync("waits"));
        // and many connections' pumps sharing the queues still each get their answers
        var answers = await Task.WhenAll(Enumerable.Range(0, 8).Select(async i =>
        {
            using var own = Client();
            var got = new List<string>();
            for (int k = 0; k < 20; k++) got.Add(await own.GetStringAsync($"hello/{i * 100 + k}"));
            return got;
        }));
        for (int i = 0; i < 8; i++) Assert.Equal(Enumerable.Range(0, 20).Select(k => $"hello {i * 100 + k}"), answers[i]);
    }

    [Fact]
    public async Task A_bulk_response_is_sent_on_the_writers_own_thread_not_by_a_hop_to_the_send_queue_and_back()
    {
        using var client = Client();
        Assert.Equal(8 * 64 * 1024, (await client.GetByteArrayAsync("bulk")).Length);
        // The first flush goes by the queue (nothing says bulk yet); after it, each 64 KiB flush is
        // taken while the writer waits in it, unless the send buffer is full at that moment.
        Assert.True(Volatile.Read(ref _bulkWritesDoneAtOnce) >= 3, $"{_bulkWritesDoneAtOnce} of 8 bulk writes were taken at once");
        // and small answers on the same connection go by the queue again, and still arrive
        for (int i = 0; i < 5; i++) Assert.Equal($"hello {i}", await client.GetStringAsync($"hello/{i}"));
    }

    [Fact]
    public async Task With_connection_close_each_request_is_a_short_connection_that_leaves_a_time_wait_behind()
    {
        using var client = Client();
        for (int i = 0; i < 10; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"hello/{i}");
            request.Headers.ConnectionClose = true;
            using var response = await client.SendAsync(request);
            Assert.Equal($"hello {i}", await response.Content.ReadAsStringAsync());
        }
        Assert.Equal(10, _clientStack.Statistics.ConnectionsOpened);
        // Both ends close once the response is done (Kestrel after "Connection: close", HttpClient once it
        // has read it); whichever FIN goes first leaves its side in TIME-WAIT, both sides when they cross.
        // Real threads make that a matter of timing, so what holds is: every short connection leaves a
        // TIME-WAIT behind, on at least one side, and nothing else stays open.
        await Until(() => _clientStack.ConnectionCount == 0 && _serverStack.ConnectionCount == 0, () => "every connection closed:\n" + Snapshots());
        var clientPortsInTimeWait = _serverStack.Snapshot().Where(e => e.State == TcpState.TimeWait).Select(e => e.Tuple!.Value.RemotePort)
            .Concat(_clientStack.Snapshot().Where(e => e.State == TcpState.TimeWait).Select(e => e.Tuple!.Value.LocalPort))
            .ToHashSet();
        Assert.True(clientPortsInTimeWait.Count == 10, "a TIME-WAIT for each of the ten connections:\n" + Snapshots());
    }

    [Fact]
    public async Task Http2_with_prior_knowledge_multiplexes_requests_on_one_connection()
    {
        using var client = Client();
        client.DefaultRequestVersion = HttpVersion.Version20;
        client.DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact; // h2c, no upgrade
        var responses = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => client.GetAsync($"http://192.0.2.2:8080/hello/{i}")));
        for (int i = 0; i < responses.Length; i++)
        {
            Assert.Equal(HttpVersion.Version20, responses[i].Version);
            Assert.Equal($"hello {i}", await responses[i].Content.ReadAsStringAsync());
        }
        Assert.Equal(1, _clientStack.Statistics.ConnectionsOpened);
    }

    [Fact]
    public async Task Https_through_kestrels_tls_negotiates_http2_and_carries_a_megabyte()
    {
        var handler = SynackHttp.CreateHandler(_clientStack);
        handler.SslOptions.RemoteCertificateValidationCallback = (_, cert, _, _) => cert?.GetCertHashString() == TestCertificate.ForServer.GetCertHashString();
        using var client = new HttpClient(handler) { BaseAddress = new Uri("https://192.0.2.2/"), Timeout = Limit, DefaultRequestVersion = HttpVersion.Version20 };
        using var response = await client.GetAsync("hello/7");
        Assert.Equal(HttpVersion.Version20, response.Version); // ALPN over our stream chose h2
        Assert.Equal("hello 7", await response.Content.ReadAsStringAsync());
        var body = new byte[1 << 20];
        new Random(11).NextBytes(body);
        using var posted = await client.PostAsync("sha256", new ByteArrayContent(body));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), await posted.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// Long and short connections (docs/scenarios.md, S10), through real HTTP and read back from a capture
    /// as an engineer would: one conversation carrying a hundred requests, then ten that carry one each.
    /// </summary>
    [Fact]
    public async Task S10_long_and_short_connections_as_the_capture_shows_them()
    {
        var file = new MemoryStream();
        var tap = new CaptureTap(file);
        _clientThread.Invoke(() => tap.Attach(_clientStack));
        using (var keepAlive = Client())
        {
            for (int i = 0; i < 100; i++) Assert.Equal($"hello {i}", await keepAlive.GetStringAsync($"hello/{i}"));
        }
        using (var shortLived = Client())
        {
            for (int i = 0; i < 10; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"hello/{i}");
                request.Headers.ConnectionClose = true;
                using var response = await shortLived.SendAsync(request);
                Assert.Equal($"hello {i}", await response.Content.ReadAsStringAsync());
            }
        }
        await Until(() => _clientStack.ConnectionCount == 0 && _serverStack.ConnectionCount == 0, () => "every connection closed:\n" + Snapshots());
        _clientThread.Invoke(tap.Dispose);

        var conversations = Synack.Analysis.CaptureAnalyzer.Analyze(CaptureReader.Read(file.ToArray()));
        Assert.Equal(11, conversations.Count); // 11 handshakes: 1 long connection, 10 short ones
        Assert.All(conversations, c => Assert.NotNull(c.ClientIsn));
        foreach (var c in conversations)
        {
            var ladder = string.Join("\n", c.Packets.Select(p => $"{(p.FromClient ? "client" : "server")} {p.FlagText} seq={p.Seq} ack={p.Ack} len={p.Length} {p.ClientState}/{p.ServerState}").TakeLast(12));
            Assert.True(c.CloseKind is "four-way" or "three-way" or "simultaneous", $"stream {c.Stream} closed by {c.CloseKind}:\n{ladder}");
        }
        // Distinct sequence numbers: on a loaded machine a probe or a timeout may resend a request (real time here), which carries no new one.
        var requestsPerConnection = conversations.Select(c => c.Packets.Where(p => p.FromClient && p.Length > 0).Select(p => p.Seq).Distinct().Count()).ToArray();
        Assert.Equal(100, requestsPerConnection[0]);
        Assert.All(requestsPerConnection[1..], n => Assert.Equal(1, n));
    }

    [Fact]
    public async Task A_megabyte_posted_arrives_whole()
    {
        using var client = Client();
        var body = new byte[1 << 20];
        new Random(7).NextBytes(body);
        using var response = await client.PostAsync("sha256", new ByteArrayContent(body));
        response.EnsureSuccessStatusCode();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_request_the_app_aborts_fails_at_the_client_not_a_hang()
    {
        using var client = Client();
        // As on Kestrel's socket transport, an abort closes the connection under the request.
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("abort")).WaitAsync(Limit);
        Assert.Equal("hello 1", await client.GetStringAsync("hello/1")); // the pool opens a new connection
    }

    [Fact]
    public async Task Graceful_shutdown_lets_a_request_in_flight_finish_and_closes_with_fin_not_reset()
    {
        using var client = Client();
        var inFlight = client.GetStringAsync("slow");
        await _slowStarted.Task.WaitAsync(Limit);
        var resetsBefore = _serverStack.Statistics.ResetsSent;
        using var cts = new CancellationTokenSource(Limit);
        var stopping = _app.StopAsync(cts.Token); // stops accepting; waits for the request in flight
        Assert.False(stopping.IsCompleted);
        _releaseSlow.SetResult();
        Assert.Equal("finished", await inFlight.WaitAsync(Limit));
        await stopping;
        await Until(() => _serverStack.ConnectionCount == 0, () => "the drained connection closed:\n" + Snapshots());
        Assert.Equal(resetsBefore, _serverStack.Statistics.ResetsSent);
    }

    [Fact]
    public async Task A_client_that_resets_mid_upload_surfaces_in_the_app_as_a_connection_reset()
    {
        // A raw client on the socket API: the headers and part of the body; once the app is reading it, RST.
        var options = ConnectionOptions.Default with { Nagle = false };
        var connection = await TcpConnection.ConnectAsync(_clientStack, IpAddr.Parse("192.0.2.2"), 80, options).WaitAsync(Limit);
        await connection.WriteAsync("POST /drain HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"u8.ToArray());
        await connection.WriteAsync(new byte[1000]);
        await _drainStarted.Task.WaitAsync(Limit);
        connection.Abort();
        var outcome = await _bodyOutcome.Task.WaitAsync(Limit);
        Assert.IsAssignableFrom<IOException>(outcome); // Kestrel's ConnectionResetException is an IOException
        Assert.Contains("reset", outcome!.GetType().Name + outcome.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_connection_to_a_port_nobody_serves_is_refused()
    {
        using var client = new HttpClient(SynackHttp.CreateHandler(_clientStack)) { Timeout = Limit };
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => client.GetStringAsync("http://192.0.2.2:81/"));
        Assert.Equal(System.Net.Sockets.SocketError.ConnectionRefused, Assert.IsType<System.Net.Sockets.SocketException>(e.InnerException).SocketErrorCode);
    }

    [Fact]
    public async Task Kestrel_binds_only_the_stacks_addresses_on_synack()
    {
        var factory = new SynackTransportFactory(_serverStack);
        Assert.True(factory.CanBind(new IPEndPoint(IPAddress.Parse("192.0.2.2"), 8080)));
        Assert.False(factory.CanBind(new IPEndPoint(IPAddress.Loopback, 8080)));
        await Assert.ThrowsAsync<NotSupportedException>(async () => await factory.BindAsync(new IPEndPoint(IPAddress.Loopback, 8080)));
    }
}
