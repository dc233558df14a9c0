using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Synack.KernelBench;

/// <summary>
/// The kernel's side of the hold row (<c>synack bench-hold-clients</c>, run inside the bench's
/// namespace): opens <c>count</c> connections from many local addresses (a source address gives at most
/// 64,000 ports towards one server port), a bounded number of handshakes in flight, holds them idle
/// until a file appears, then closes every one (a FIN each) and says how long each phase took.
/// </summary>
public static class HoldClients
{
    /// <summary>Connections one local address opens at most (of the 64,512 ports the namespace's range gives).</summary>
    public const int PerAddress = 50_000;

    /// <summary>The first local port: connection i of an address binds port <c>FirstPort + i</c>.</summary>
    private const int FirstPort = 10_000;

    /// <summary>Connections one client process holds: each is a descriptor, and a process may not raise its limit here (20,000) without CAP_SYS_RESOURCE.</summary>
    public const int PerProcess = 19_000;

    /// <param name="firstIndex">This process's first connection in the whole run: it picks the local addresses (<see cref="PerAddress"/> each).</param>
    public static async Task<int> RunAsync(IPEndPoint server, IPAddress firstLocal, int firstIndex, int count, int inFlight, string releaseFile, TimeSpan maxHold, TextWriter output)
    {
        var sockets = new Socket[count];
        var first = firstLocal.GetAddressBytes();
        var clock = Stopwatch.StartNew();
        using var slots = new SemaphoreSlim(inFlight);
        int failed = 0;
        var opening = new List<Task>(inFlight * 2);
        for (int i = 0; i < count; i++)
        {
            await slots.WaitAsync();
            var local = (byte[])first.Clone();
            local[3] = (byte)(first[3] + (firstIndex + i) / PerAddress);
            var s = sockets[i] = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            // Each socket names its port: left to the kernel (port 0, even with IP_BIND_ADDRESS_NO_PORT),
            // connect() searched the port space for a free 4-tuple, and as an address filled up that
            // search (__inet_check_established) took 91 % of the machine: the open rate the row measured
            // was the client's. SO_REUSEADDR binds over the kernel's own TIME-WAIT from an earlier row.
            s.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            s.Bind(new IPEndPoint(new IPAddress(local), FirstPort + (firstIndex + i) % PerAddress));
            opening.Add(Connect(s));
            if (opening.Count >= inFlight * 2) opening.RemoveAll(t => t.IsCompleted);
            if ((i + 1) % 100_000 == 0) Say(output, $"opening {i + 1} after {clock.Elapsed.TotalSeconds:F1} s");
        }
        await Task.WhenAll(opening);
        double openSeconds = clock.Elapsed.TotalSeconds;
        Say(output, string.Create(CultureInfo.InvariantCulture, $"held {count - failed} of {count} in {openSeconds:F2} s"));

        var until = Stopwatch.StartNew();
        while (!File.Exists(releaseFile) && until.Elapsed < maxHold) await Task.Delay(100);
        clock.Restart();
        // close(): a FIN each, no data unread; at most 20,000 a second. Closed as fast as the loop goes
        // (100,000 a second and more), the FINs overflowed the device's queue towards Synack, and the
        // kernel's orphans that retransmitted meanwhile were reset as "too many orphaned sockets" (a
        // retransmitting orphan counts two, four, eight times against tcp_max_orphans): a reset the
        // queue dropped too left Synack's end ESTABLISHED for good, as it would a kernel server's.
        for (int i = 0; i < sockets.Length; i++)
        {
            sockets[i]?.Dispose();
            if (i % 1000 == 999) await Task.Delay(50);
        }
        Say(output, string.Create(CultureInfo.InvariantCulture, $"closed {count} in {clock.Elapsed.TotalSeconds:F2} s"));
        return failed == 0 ? 0 : 1;

        async Task Connect(Socket s)
        {
            try
            {
                await s.ConnectAsync(server);
            }
            catch (SocketException e)
            {
                if (Interlocked.Increment(ref failed) <= 5) Say(output, $"connect failed: {e.SocketErrorCode}");
            }
            finally
            {
                slots.Release();
            }
        }
    }

    private static void Say(TextWriter output, string line)
    {
        lock (output)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }
}
