using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Bench;

/// <summary>
/// One request and its response on a keep-alive connection between two stacks on threads of their own
/// (joined in memory), pumped the way a web server's transport pumps it: a 100-byte request written and
/// read, a 200-byte response written and read, a token that lives as long as the connection.
/// MemoryDiagnoser's Allocated column is what a request costs the process in allocations (its target:
/// 0 B; KeepAliveAllocationTests holds it under 24).
/// </summary>
[MemoryDiagnoser]
public class KeepAliveRequestBenchmarks
{
    private const int RequestsPerInvoke = 1000;
    private StackThread _clientLoop = null!, _serverLoop = null!;
    private TcpConnection _client = null!, _server = null!;
    private readonly CancellationTokenSource _connectionLifetime = new();
    private readonly byte[] _request = new byte[100], _response = new byte[200];
    private readonly byte[] _serverBuffer = new byte[4096], _clientBuffer = new byte[4096];

    [GlobalSetup]
    public void Setup()
    {
        var options = ConnectionOptions.Default with { Nagle = false };
        _clientLoop = new StackThread(new NetworkStack(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")], Connection = options }));
        _serverLoop = new StackThread(new NetworkStack(new StackOptions { Name = "server", Addresses = [IpAddr.Parse("192.0.2.2")], Connection = options }));
        var link = new ThreadLink();
        link.Attach(_clientLoop);
        link.Attach(_serverLoop);
        var listener = TcpListener.Start(_serverLoop.Stack, 80);
        var accepting = listener.AcceptAsync().AsTask();
        _client = TcpConnection.ConnectAsync(_clientLoop.Stack, IpAddr.Parse("192.0.2.2"), 80).WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        _server = accepting.WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
    }

    [Benchmark(OperationsPerInvoke = RequestsPerInvoke)]
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask KeepAliveRequest()
    {
        var token = _connectionLifetime.Token;
        for (int i = 0; i < RequestsPerInvoke; i++)
        {
            await _client.WriteAsync(_request, token);
            int got = 0;
            while (got < _request.Length) got += await _server.ReadAsync(_serverBuffer, token);
            await _server.WriteAsync(_response, token);
            got = 0;
            while (got < _response.Length) got += await _client.ReadAsync(_clientBuffer, token);
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _client.Abort();
        _server.Abort();
        _clientLoop.Dispose();
        _serverLoop.Dispose();
        _connectionLifetime.Dispose();
    }
}
