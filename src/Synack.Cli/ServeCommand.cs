using System.CommandLine;
using System.Runtime.InteropServices;
using Synack.Cli.Services;
using Synack.Stack;
using Synack.Tcp;
using Synack.Tun;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>`synack serve`: the stack on a TUN device, serving HTTP on 80 (Kestrel over Synack), echo on 7 and discard on 9 to the kernel.</summary>
internal static class ServeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var tun = new Option<string>("--tun") { Description = "TUN device to create in the current network namespace", Required = true };
        var address = new Option<string>("--address") { Description = "the stack's own address, e.g. 192.0.2.2", Required = true };
        var peer = new Option<string>("--peer") { Description = "the kernel side's address with prefix, e.g. 192.0.2.1/24", Required = true };
        var mtu = new Option<int>("--mtu") { Description = "MTU of the device (576..65535)", DefaultValueFactory = _ => 1500 };
        var quiet = new Option<bool>("--quiet") { Description = "no line per connection event" };
        var kernelHttp = new Option<int?>("--kernel-http") { Description = "also serve the same HTTP app through the kernel's sockets on the peer address: HTTP/1.1 on this port, h2c on the next (to compare, in one process)" };
        var noOffload = new Option<bool>("--no-offload") { Description = "write every segment to the device as it is, checksummed (no IFF_VNET_HDR segmentation or checksum offload)" };
        var files = new Option<string?>("--files") { Description = "also serve the files under this directory on port 8000 (HTTP/1.1 GET, HEAD and ranges; bodies by the stack's sendfile)" };
        var shardCount = new Option<int>("--shards") { Description = "stack shards, one per queue of a multi-queue device (IFF_MULTI_QUEUE); the kernel keeps each connection on one", DefaultValueFactory = _ => 1 };
        var cmd = new Command("serve", "serve HTTP (80), echo (7) and discard (9) on a TUN device, with the kernel as the peer") { tun, address, peer, mtu, quiet, kernelHttp, noOffload, files, shardCount };
        cmd.SetAction(async (parse, ct) =>
        {
            if (!TryAddress(parse.GetValue(address)!, out var addr, error)) return 2;
            FileServer? fileServer = null;
            if (parse.GetValue(files) is { } root)
            {
                try
                {
                    fileServer = new FileServer(root);
                }
                catch (Exception ex) when (ex is IOException or ArgumentException or UnauthorizedAccessException)
                {
                    error.WriteLine($"synack serve: --files: {ex.Message}");
                    return 2;
                }
            }
            int n = parse.GetValue(shardCount);
            if (n is < 1 or > 64)
            {
                error.WriteLine($"synack serve: --shards is 1..64, not {n}");
                return 2;
            }
            StackThread[] loops;
            TunLink[] links;
            try
            {
                loops = Enumerable.Range(0, n).Select(i =>
                {
                    var shard = new NetworkStack(new StackOptions
                    {
                        Name = n == 1 ? "synack" : $"synack-{i}",
                        Addresses = [addr],
                        Connection = ConnectionOptions.Default with { Mss = (ushort)Math.Min(65495, parse.GetValue(mtu) - 40) },
                    });
                    if (!parse.GetValue(quiet)) shard.AddObserver(new EventPrinter(output));
                    return new StackThread(shard);
                }).ToArray();
                if (n > 1) _ = new ShardSet(loops);
                links = TunLink.OpenQueues(parse.GetValue(tun)!, loops, parse.GetValue(mtu), offload: !parse.GetValue(noOffload));
                links[0].Configure(parse.GetValue(peer)!);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException)
            {
                error.WriteLine($"synack serve: {ex.Message}");
                return 1;
            }
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                stop.Cancel();
            });
            System.Net.IPEndPoint? kernel = null;
            if (parse.GetValue(kernelHttp) is int kernelPort)
            {
                if (kernelPort is < 1 or > 65534 || !System.Net.IPAddress.TryParse(parse.GetValue(peer)!.Split('/')[0], out var kernelAddress))
                {
                    error.WriteLine($"synack serve: --kernel-http needs a port (1..65534: h2c takes the next) and --peer an address, not {kernelPort} and {parse.GetValue(peer)}");
                    return 2;
                }
                kernel = new System.Net.IPEndPoint(kernelAddress, kernelPort);
            }
            var stacks = loops.Select(l => l.Stack).ToArray();
            var http = HttpApp.Build(stacks, addr.ToIPAddress(), kernel: kernel);
            await http.StartAsync(stop.Token);
            var listeners = stacks.SelectMany(stack => new[]
            {
                (Listener: TcpListener.Start(stack, 7), Serve: (Func<TcpConnection, CancellationToken, Task>)SimpleServices.EchoAsync),
                (Listener: TcpListener.Start(stack, 9), Serve: (Func<TcpConnection, CancellationToken, Task>)SimpleServices.DiscardAsync),
            }).ToArray();
            var accepting = listeners.Select(l => AcceptLoop.RunAsync(l.Listener, l.Serve, stop.Token)).ToList();
            var fileListeners = fileServer is null ? [] : stacks.Select(stack => TcpListener.Start(stack, 8000)).ToArray();
            accepting.AddRange(fileListeners.Select(l => fileServer!.RunAsync(l, stop.Token)));
            output.WriteLine($"ready: {addr} on {links[0].Name}{(n > 1 ? $" ({n} queues, a shard each)" : "")}, kernel side {parse.GetValue(peer)}; http 80, h2c 8080, echo 7, discard 9{(fileServer is null ? "" : ", files 8000")}{(kernel is null ? "" : $"; the same http through the kernel on {kernel}, h2c on port {kernel.Port + 1}")}");
            output.Flush();
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token);
            }
            catch (OperationCanceledException)
            {
            }
            foreach (var l in listeners) l.Listener.Stop();
            foreach (var l in fileListeners) l.Stop();
            using (var drain = new CancellationTokenSource(TimeSpan.FromSeconds(5))) await http.StopAsync(drain.Token); // graceful: open requests finish
            await http.DisposeAsync();
            for (int i = 0; i < n; i++)
            {
                var link = links[i];
                output.WriteLine($"summary{(n > 1 ? $" (shard {i})" : "")}: {stacks[i].Statistics}{(stacks[i].Statistics.SynCookiesSent + stacks[i].Statistics.SynCookiesFailed == 0 ? ", syn cookies sent 0" : "")}; tun read {link.PacketsRead}, written {link.PacketsWritten}, write errors {link.WriteErrors}");
                link.Dispose();
                loops[i].Dispose();
            }
            return 0;
        });
        return cmd;
    }

    internal static bool TryAddress(string text, out IpAddr address, TextWriter error)
    {
        address = default;
        if (!System.Net.IPAddress.TryParse(text, out var ip))
        {
            error.WriteLine($"synack: '{text}' is not an IP address");
            return false;
        }
        address = IpAddr.FromIPAddress(ip);
        return true;
    }

    /// <summary>One line per connection event, for a person watching.</summary>
    internal sealed class EventPrinter(TextWriter output) : IStackObserver
    {
        public void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
        {
            if (from == TcpState.Closed && to == TcpState.Listen) return;
            lock (output) output.WriteLine($"{now.TotalSeconds,10:F3}  {FourTuple.Format(tuple.RemoteAddress, tuple.RemotePort),-22} {from.ToRfcName(),-12} -> {to.ToRfcName(),-12} {cause}");
        }
    }
}
