using System.CommandLine;
using System.Runtime.InteropServices;
using Synack.Services;
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
        var explore = new Option<int?>("--explore") { Description = "also start the explorer on 127.0.0.1 at this port (0: a free one): its live page follows each connection as it happens" };
        var cmd = new Command("serve", "serve HTTP (80), echo (7) and discard (9) on a TUN device, with the kernel as the peer") { tun, address, peer, mtu, quiet, kernelHttp, noOffload, files, shardCount, explore };
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
            TunServer server;
            try
            {
                server = TunServer.Open(new TunServerOptions
                {
                    Device = parse.GetValue(tun)!,
                    Address = addr,
                    Peer = parse.GetValue(peer)!,
                    Mtu = parse.GetValue(mtu),
                    Offload = !parse.GetValue(noOffload),
                    Shards = n,
                    Files = fileServer,
                    KernelHttp = kernel,
                    Observer = parse.GetValue(quiet) ? null : new EventPrinter(output),
                });
            }
            catch (Exception ex) when (ex is IOException or ArgumentException)
            {
                error.WriteLine($"synack serve: {ex.Message}");
                return 1;
            }
            await using (server)
            {
                Synack.Explorer.ExplorerServer? explorer = null;
                if (parse.GetValue(explore) is int explorePort)
                {
                    var feed = new Synack.Explorer.LiveFeed();
                    foreach (var stack in server.Stacks) feed.Attach(stack);
                    explorer = await Synack.Explorer.ExplorerServer.StartAsync(explorePort, feed, ct);
                    output.WriteLine($"synack serve: the explorer follows each connection live at {explorer.Url}");
                }
                await using var _ = explorer;
                using var stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
                using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
                {
                    c.Cancel = true;
                    stop.Cancel();
                });
                await server.StartAsync(stop.Token);
                output.WriteLine(server.ReadyLine);
                output.Flush();
                try
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
                catch (OperationCanceledException)
                {
                }
                await server.StopAsync();
                foreach (var line in server.Summary()) output.WriteLine(line);
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
