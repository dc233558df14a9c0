using System.Net.Sockets;
using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.KernelBench;

/// <summary>
/// Memory per connection, measured on the simulated network (virtual time, so a million handshakes
/// take seconds): idle established connections, and TIME-WAIT entries. Clients spread over several
/// addresses, as the ephemeral ports of one give out at 28,232 connections to one server port.
/// </summary>
internal static class ScaleBench
{
    private const int PerClientAddress = 20_000;
    private const int Batch = 10_000;

    /// <summary>Bytes per endpoint (each connection has two) with <paramref name="count"/> idle connections open.</summary>
    public static double IdleBytesPerEndpoint(int count, Action<string> progress)
    {
        long with = HeapWithIdle(count, progress);
        // The baseline is taken after, once the connections are garbage, not before: in a process that
        // does other work (the test host), what that work let go of while the connections were opened
        // came off the difference (once -914 bytes an endpoint).
        long without = Heap();
        return (with - without) / (2.0 * count);
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static long HeapWithIdle(int count, Action<string> progress)
    {
        var world = Build(count, out var listener);
        var held = Connect(world, listener, count, progress);
        long heap = Heap();
        GC.KeepAlive(held);
        GC.KeepAlive(world);
        return heap;
    }

    /// <summary>Bytes per TIME-WAIT entry: the heap with <paramref name="count"/> entries, less the heap once they have expired.</summary>
    public static double TimeWaitBytesPerEntry(int count, Action<string> progress)
    {
        var world = Build(count, out var listener);
        var held = Connect(world, listener, count, progress);
        // The clients close first, so TIME-WAIT lands on them; the servers close on the FIN. In
        // batches: a closed socket is an orphan until TIME-WAIT takes it, and past the stack's orphan
        // limit (StackOptions.MaxOrphans, 65,536) a close resets instead, as Linux's does — closing
        // 100,000 at once left only 65,536 in TIME-WAIT.
        for (int at = 0; at < held.Count; at += Batch)
        {
            var batch = held.GetRange(at, Math.Min(Batch, held.Count - at));
            foreach (var (client, _) in batch) client.Close();
            world.Net.RunFor(TimeSpan.FromMilliseconds(50));
            foreach (var (_, server) in batch) server.Close();
            world.Net.RunFor(TimeSpan.FromMilliseconds(50));
            progress($"{at + batch.Count:N0} of {count:N0} closed");
        }
        int inTimeWait = world.Clients.Sum(c => c.TimeWaitCount);
        if (inTimeWait != count) throw new InvalidOperationException($"{inTimeWait} of {count} connections reached TIME-WAIT");
        held.Clear();
        held.TrimExcess();
        long with = Heap();
        world.Net.RunFor(TimeSpan.FromMinutes(3)); // past 2 MSL
        int left = world.Clients.Sum(c => c.TimeWaitCount);
        if (left != 0) throw new InvalidOperationException($"{left} TIME-WAIT entries outlived 2 MSL");
        long without = Heap();
        GC.KeepAlive(world);
        return (with - without) / (double)count;
    }

    private sealed record World(SimulatedNetwork Net, NetworkStack Server, List<NetworkStack> Clients);

    private static World Build(int count, out TcpSocket listener)
    {
        var net = new SimulatedNetwork(1);
        var server = net.AddHost("server", "192.0.2.1");
        var clients = new List<NetworkStack>();
        for (int i = 0; i * PerClientAddress < count; i++)
        {
            if (i >= 254) throw new ArgumentOutOfRangeException(nameof(count), $"at most {254 * PerClientAddress} connections (254 client addresses)");
            clients.Add(net.AddHost($"client{i}", $"198.51.100.{i + 1}"));
        }
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(1) }, [server, .. clients]);
        listener = TcpSocket.Create(server);
        Check(listener.Bind(80), "bind");
        Check(listener.Listen(Batch * 2), "listen");
        return new World(net, server, clients);
    }

    private static List<(TcpSocket Client, TcpSocket Server)> Connect(World world, TcpSocket listener, int count, Action<string> progress)
    {
        var pairs = new List<(TcpSocket, TcpSocket)>(count);
        var serverAddress = world.Server.PrimaryAddress;
        for (int done = 0; done < count;)
        {
            int n = Math.Min(Batch, count - done);
            var batch = new TcpSocket[n];
            for (int i = 0; i < n; i++)
            {
                var s = TcpSocket.Create(world.Clients[(done + i) / PerClientAddress]);
                var e = s.Connect(serverAddress, 80);
                if (e != SocketError.InProgress) Check(e, "connect");
                batch[i] = s;
            }
            world.Net.RunFor(TimeSpan.FromMilliseconds(10)); // handshakes take 2 ms of virtual time
            for (int i = 0; i < n; i++)
            {
                var accepted = listener.Accept(out var e) ?? throw new InvalidOperationException($"only {done + i} of {count} connections were accepted ({e})");
                if (batch[i].Protocol?.State != TcpState.Established) throw new InvalidOperationException($"connection {done + i} is {batch[i].Protocol?.State}");
                pairs.Add((batch[i], accepted));
            }
            done += n;
            progress($"{done:N0} of {count:N0} connections open");
        }
        return pairs;
    }

    private static void Check(SocketError e, string what)
    {
        if (e != SocketError.Success) throw new InvalidOperationException($"{what}: {e}");
    }

    private static long Heap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
