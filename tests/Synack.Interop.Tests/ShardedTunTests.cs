using Synack.Stack;
using Synack.Tun;
using Synack.Wire;
using TcpListener = Synack.Stack.TcpListener;

namespace Synack.Interop.Tests;

/// <summary>
/// A multi-queue TUN device with a stack shard on each queue: the kernel keeps every flow on one
/// queue, so each connection lives on one shard with nothing shared — for connections the kernel
/// opens (spread by the 4-tuple's hash) and for those a shard opens (learned from the queue it writes to).
/// </summary>
public sealed class ShardedTunTests
{
    [SkippableFact]
    public void Two_shards_each_serve_the_flows_the_kernel_gives_them_and_open_their_own()
    {
        using var ns = NetworkNamespace.Create();
        var shards = Enumerable.Range(0, 2).Select(i => new StackThread(new NetworkStack(new StackOptions
        {
            Name = $"shard{i}",
            Addresses = [IpAddr.Parse(NetworkNamespace.StackAddress)],
        }))).ToArray();
        var set = new ShardSet(shards);
        var links = TunLink.OpenQueuesInNamespace(ns.Name, "syn0", shards);
        try
        {
            Assert.Equal(2, links.Length);
            links[0].Configure(NetworkNamespace.KernelAddress + "/24");
            // Listeners on every shard: an echo of one line.
            var accepted = new int[shards.Length];
            using var stop = new CancellationTokenSource();
            // Listening before the kernel connects: started here, not inside the accept loops' tasks,
            // which a loaded thread pool may start after the first SYN (refused by a shard not yet listening).
            var listeners = shards.Select(shard => TcpListener.Start(shard.Stack, 7)).ToArray();
            var serving = shards.Select((shard, i) => Task.Run(async () =>
            {
                var listener = listeners[i];
                try
                {
                    while (true)
                    {
                        var c = await listener.AcceptAsync(stop.Token);
                        Interlocked.Increment(ref accepted[i]);
                        _ = Task.Run(async () =>
                        {
                            var buf = new byte[64];
                            int n = await c.ReadAsync(buf);
                            await c.WriteAsync(buf.AsMemory(0, n));
                            await c.CloseAsync();
                        });
                    }
                }
                catch (OperationCanceledException)
                {
                }
                finally
                {
                    listener.Stop();
                }
            })).ToArray();

            // 32 connections from the kernel, one after the other, each answered by whichever shard has it.
            const int Count = 32;
            var echoed = ns.Exec("python3", "-c",
                "import socket\nok=0\nfor i in range(32):\n s=socket.create_connection(('192.0.2.2',7),timeout=5); s.sendall(b'ping%d'%i)\n" +
                " if s.recv(64)==b'ping%d'%i: ok+=1\n s.close()\nprint(ok)").Trim();
            Assert.Equal(Count.ToString(System.Globalization.CultureInfo.InvariantCulture), echoed);
            Assert.Equal(Count, accepted.Sum());
            Assert.All(accepted, n => Assert.True(n > 0, $"a shard got none of {Count} flows: {string.Join(", ", accepted)}"));

            // Each shard opens connections of its own to a kernel echo server: the first answer of each
            // may come up the other queue (the device learns the flow only after the SYN went up), and
            // is handed to the shard that opened it; the rest follow the learned queue.
            using var server = ns.BackgroundUntil("listening", "python3", "-c",
                "import socket,threading\nl=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('192.0.2.1',5007)); l.listen(64); l.settimeout(30); print('listening', flush=True)\n" +
                "def echo(c):\n d=c.recv(64)\n c.sendall(d); c.close()\nwhile True:\n c,_=l.accept(); threading.Thread(target=echo,args=(c,)).start()");
            long resetsBefore = shards.Sum(s => s.Stack.Statistics.ResetsSent);
            long handedBefore = set.HandedOver;
            foreach (var shard in shards)
            {
                for (int i = 0; i < 8; i++)
                {
                    var c = TcpConnection.ConnectAsync(shard.Stack, IpAddr.Parse(NetworkNamespace.KernelAddress), 5007).WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
                    var hello = System.Text.Encoding.ASCII.GetBytes($"{shard.Stack.Name}-{i}");
                    c.WriteAsync(hello).AsTask().WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
                    var back = new byte[64];
                    int n = c.ReadAsync(back).AsTask().WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
                    Assert.Equal(hello, back[..n]);
                    // The server's FIN first: aborted before it arrived, the connection would be gone and
                    // the FIN answered with a reset of its own (one more than the aborts counted below).
                    Assert.Equal(0, c.ReadAsync(back).AsTask().WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult());
                    c.Abort();
                }
            }
            stop.Cancel();
            Task.WhenAll(serving).WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Assert.All(shards, s => Assert.Equal(0, s.Faults));
            Assert.Equal(0, set.OpenedConnections); // every connection a shard opened is let go of
            // The resets of the second part are our 16 aborts: no shard answered another's SYN-ACK with one
            // (that connect would have failed). One more may answer a packet that came up the other queue
            // and was handed over after the owner, taking the later ones from its own queue, had aborted:
            // a late segment for a closed connection, as the kernel would answer it; never more than
            // the packets handed over.
            long resets = shards.Sum(s => s.Stack.Statistics.ResetsSent) - resetsBefore;
            Assert.InRange(resets, 2 * 8, 2 * 8 + (set.HandedOver - handedBefore));
        }
        finally
        {
            foreach (var l in links) l.Dispose();
            foreach (var s in shards) s.Dispose();
        }
    }

    [SkippableFact]
    public void Kestrel_listening_on_two_shards_answers_every_request_whichever_queue_it_came_up()
    {
        using var ns = NetworkNamespace.StartServe("--shards", "2");
        // 40 connections, one request each: about half reach each shard, and each must be answered.
        var codes = ns.Exec("sh", "-c",
            $"for i in $(seq 40); do curl -s -m 5 -o /dev/null -w '%{{http_code}}\\n' http://{NetworkNamespace.StackAddress}/bytes/1000; done | sort | uniq -c").Trim();
        Assert.Equal("40 200", System.Text.RegularExpressions.Regex.Replace(codes, @"\s+", " "));
        var h2 = ns.Exec("curl", "-sS", "-m", "10", "--http2-prior-knowledge", "-o", "/dev/null", "-w", "%{http_version} %{size_download}",
            $"http://{NetworkNamespace.StackAddress}:8080/bytes/100000");
        Assert.Equal("2 100000", h2.Trim());
    }
}
