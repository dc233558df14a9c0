using System.Net;
using Microsoft.AspNetCore.Builder;
using Synack.Stack;
using Synack.Tcp;
using Synack.Tun;
using Synack.Wire;

namespace Synack.Services;

/// <summary>What a <see cref="TunServer"/> opens and serves.</summary>
public sealed record TunServerOptions
{
    /// <summary>The TUN device to create in the current network namespace.</summary>
    public required string Device { get; init; }
    /// <summary>The stack's own address.</summary>
    public required IpAddr Address { get; init; }
    /// <summary>The kernel side's address with its prefix ("192.0.2.1/24").</summary>
    public required string Peer { get; init; }
    /// <summary>The device's MTU.</summary>
    public int Mtu { get; init; } = 1500;
    /// <summary>Segmentation and checksum offload on the device (IFF_VNET_HDR).</summary>
    public bool Offload { get; init; } = true;
    /// <summary>Stack shards, one per queue of a multi-queue device.</summary>
    public int Shards { get; init; } = 1;
    /// <summary>Also serve the files under this directory on port 8000.</summary>
    public FileServer? Files { get; init; }
    /// <summary>Also serve the same HTTP app through the kernel's sockets here (HTTP/1.1; h2c on the next port).</summary>
    public IPEndPoint? KernelHttp { get; init; }
    /// <summary>Told of every connection event on every shard.</summary>
    public IStackObserver? Observer { get; init; }
}

/// <summary>
/// Synack on a TUN device with the kernel as its peer, serving: HTTP on 80 (an ASP.NET Core minimal
/// API on Kestrel over the stack) and h2c on 8080, echo on 7, discard on 9, and optionally files on
/// 8000. With several shards the device has a queue per shard and the kernel keeps each connection on
/// one; each shard is a stack on a <see cref="StackThread"/> of its own.
/// </summary>
public sealed class TunServer : IAsyncDisposable
{
    private readonly TunServerOptions _options;
    private readonly StackThread[] _loops;
    private readonly TunLink[] _links;
    private readonly CancellationTokenSource _stop = new();
    private WebApplication? _http;
    private readonly List<TcpListener> _listeners = [];
    private readonly List<Task> _accepting = [];

    private TunServer(TunServerOptions options, StackThread[] loops, TunLink[] links)
    {
        _options = options;
        _loops = loops;
        _links = links;
    }

    /// <summary>The shards' stacks.</summary>
    public IReadOnlyList<NetworkStack> Stacks => [.. _loops.Select(l => l.Stack)];
    /// <summary>The device's name.</summary>
    public string DeviceName => _links[0].Name;

    /// <summary>Creates the shards and the device and configures the kernel's side; a device that cannot be made throws <see cref="IOException"/>.</summary>
    public static TunServer Open(TunServerOptions options)
    {
        if (options.Shards is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(options), $"shards are 1..64, not {options.Shards}");
        int n = options.Shards;
        var loops = Enumerable.Range(0, n).Select(i =>
        {
            var shard = new NetworkStack(new StackOptions
            {
                Name = n == 1 ? "synack" : $"synack-{i}",
                Addresses = [options.Address],
                Connection = ConnectionOptions.Default with { Mss = (ushort)Math.Min(65495, options.Mtu - 40) },
            });
            if (options.Observer is { } observer) shard.AddObserver(observer);
            return new StackThread(shard);
        }).ToArray();
        try
        {
            if (n > 1) _ = new ShardSet(loops);
            var links = TunLink.OpenQueues(options.Device, loops, options.Mtu, offload: options.Offload);
            links[0].Configure(options.Peer);
            return new TunServer(options, loops, links);
        }
        catch
        {
            foreach (var l in loops) l.Dispose();
            throw;
        }
    }

    /// <summary>Starts every service.</summary>
    public async Task StartAsync(CancellationToken ct)
    {
        var stacks = Stacks;
        _http = HttpApp.Build(stacks, _options.Address.ToIPAddress(), kernel: _options.KernelHttp);
        await _http.StartAsync(ct);
        foreach (var stack in stacks)
        {
            // Linux's somaxconn (4,096): a crowd of clients connecting at once waits in the accept queue
            // rather than each retrying its SYN a second later.
            Serve(TcpListener.Start(stack, 7, Backlog), SimpleServices.EchoAsync);
            Serve(TcpListener.Start(stack, 9, Backlog), SimpleServices.DiscardAsync);
            if (_options.Files is { } files)
            {
                var listener = TcpListener.Start(stack, 8000, Backlog);
                _listeners.Add(listener);
                _accepting.Add(files.RunAsync(listener, _stop.Token));
            }
        }
    }

    private const int Backlog = 4096;

    private void Serve(TcpListener listener, Func<TcpConnection, CancellationToken, Task> serve)
    {
        _listeners.Add(listener);
        _accepting.Add(AcceptLoop.RunAsync(listener, serve, _stop.Token));
    }

    /// <summary>The line a person (or a test) waits for: what is served where.</summary>
    public string ReadyLine
    {
        get
        {
            var o = _options;
            int n = o.Shards;
            var kernel = o.KernelHttp;
            return $"ready: {o.Address} on {DeviceName}{(n > 1 ? $" ({n} queues, a shard each)" : "")}, kernel side {o.Peer}; http 80, h2c 8080, echo 7, discard 9"
                + (o.Files is null ? "" : ", files 8000")
                + (kernel is null ? "" : $"; the same http through the kernel on {kernel}, h2c on port {kernel.Port + 1}");
        }
    }

    /// <summary>Stops listening, lets open HTTP requests finish (at most 5 s), and stops the services.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        foreach (var l in _listeners) l.Stop();
        if (_http is { } http)
        {
            using (var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await http.StopAsync(drain.Token); // graceful: open requests finish
            await http.DisposeAsync();
            _http = null;
        }
    }

    /// <summary>One line per shard: the stack's counters and the device's.</summary>
    public IEnumerable<string> Summary()
    {
        int n = _loops.Length;
        for (int i = 0; i < n; i++)
        {
            var stats = _loops[i].Stack.Statistics;
            var link = _links[i];
            yield return $"summary{(n > 1 ? $" (shard {i})" : "")}: {stats}{(stats.SynCookiesSent + stats.SynCookiesFailed == 0 ? ", syn cookies sent 0" : "")}; tun read {link.PacketsRead}, written {link.PacketsWritten}, write errors {link.WriteErrors}";
        }
    }

    /// <summary>Stops (if still running) and closes the devices and the shards' threads.</summary>
    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        for (int i = 0; i < _loops.Length; i++)
        {
            _links[i].Dispose();
            _loops[i].Dispose();
        }
        _stop.Dispose();
    }
}
