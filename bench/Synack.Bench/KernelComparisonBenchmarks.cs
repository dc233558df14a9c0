using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Synack.Stack;
using Synack.Wire;
using SynackListener = Synack.Stack.TcpListener;

namespace Synack.Bench;

/// <summary>
/// The same connection's life, side by side in one run: the Linux kernel's TCP over loopback
/// (baseline) and Synack's, two stacks on their own threads joined in memory, real time. Each
/// operation is a whole short connection: connect, send <see cref="Size"/> bytes, the server reads
/// them and closes first (so TIME-WAIT lands on the server, as for a web server), the client reads
/// the end of stream and closes. Size 0 is connection management alone.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(warmupCount: 3, iterationCount: 10)]
public class KernelComparisonBenchmarks
{
    private byte[] _data = [];
    private Socket? _kernelListener;
    private IPEndPoint? _kernelEndPoint;
    private Task? _kernelServer;
    private StackThread? _client, _server;
    private SynackListener? _synackListener;
    private Task? _synackServer;
    private CancellationTokenSource? _stop;
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");

    [Params(0, 64 * 1024, 1024 * 1024)]
    public int Size { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _data = new byte[Size];
        new Random(1).NextBytes(_data);
        _stop = new CancellationTokenSource();

        // The kernel: loopback only.
        _kernelListener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        _kernelListener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _kernelListener.Listen(512);
        _kernelEndPoint = (IPEndPoint)_kernelListener.LocalEndPoint!;
        _kernelServer = Task.Run(() => ServeKernel(_kernelListener, Size, _stop.Token));

        // Synack: two stacks, each on its own thread, packets handed across in memory.
        _client = new StackThread(new NetworkStack(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")] }));
        _server = new StackThread(new NetworkStack(new StackOptions { Name = "server", Addresses = [ServerAddress] }));
        var link = new ThreadLink();
        link.Attach(_client);
        link.Attach(_server);
        _synackListener = SynackListener.Start(_server.Stack, 80, backlog: 512);
        _synackServer = Task.Run(() => ServeSynack(_synackListener, Size, _stop.Token));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _stop?.Cancel();
        _kernelListener?.Dispose();
        _synackListener?.Stop();
        _client?.Dispose();
        _server?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "kernel (loopback)")]
    public async Task<int> Kernel()
    {
        using var s = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await s.ConnectAsync(_kernelEndPoint!);
        if (_data.Length > 0) await s.SendAsync(_data);
        var buf = new byte[1];
        int n = await s.ReceiveAsync(buf); // 0: the server closed
        return n;
    }

    [Benchmark(Description = "synack (two stacks, threads)")]
    public async Task<int> Synack()
    {
        var c = await TcpConnection.ConnectAsync(_client!.Stack, ServerAddress, 80);
        if (_data.Length > 0) await c.WriteAsync(_data);
        var buf = new byte[1];
        int n = await c.ReadAsync(buf);
        // close() returns at once on the kernel too; the FIN and its ACK finish in the background.
        _ = c.CloseAsync().ContinueWith(t => t.Exception, TaskContinuationOptions.OnlyOnFaulted);
        return n;
    }

    private static async Task ServeKernel(Socket listener, int size, CancellationToken stop)
    {
        var buf = new byte[65536];
        while (!stop.IsCancellationRequested)
        {
            Socket s;
            try
            {
                s = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                using (s)
                {
                    int got = 0;
                    while (got < size)
                    {
                        int n = await s.ReceiveAsync(buf);
                        if (n == 0) break;
                        got += n;
                    }
                }
            });
        }
    }

    private static async Task ServeSynack(SynackListener listener, int size, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            TcpConnection s;
            try
            {
                s = await listener.AcceptAsync(stop);
            }
            catch (Exception e) when (e is OperationCanceledException or System.Net.Sockets.SocketException)
            {
                return;
            }
            _ = Task.Run(async () =>
            {
                var buf = new byte[65536];
                int got = 0;
                while (got < size)
                {
                    int n = await s.ReadAsync(buf);
                    if (n == 0) break;
                    got += n;
                }
                await s.CloseAsync();
            });
        }
    }
}
