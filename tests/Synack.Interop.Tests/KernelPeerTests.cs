using System.Net.Sockets;
using Synack.Stack;
using Synack.Tcp;
using Synack.Tun;
using Synack.Wire;
using TcpListener = Synack.Stack.TcpListener;

namespace Synack.Interop.Tests;

/// <summary>
/// Our stack in this process, its TUN device inside a namespace of the test's own, and kernel sockets
/// (python) on the other side: the kernel's view (ss) must agree with ours, state by state.
/// </summary>
public sealed class KernelPeerTests
{
    private sealed class Host : IDisposable, IStackObserver
    {
        private readonly List<(FourTuple Tuple, TcpState From, TcpState To)> _changes = [];

        public Host(ConnectionOptions? options = null)
        {
            Namespace = NetworkNamespace.Create();
            Stack = new NetworkStack(new StackOptions
            {
                Name = "synack",
                Addresses = [IpAddr.Parse(NetworkNamespace.StackAddress)],
                Connection = options ?? ConnectionOptions.Default,
            });
            Stack.AddObserver(this);
            Loop = new StackThread(Stack);
            Tun = TunLink.OpenInNamespace(Namespace.Name, "syn0", Loop);
            Tun.Configure(NetworkNamespace.KernelAddress + "/24");
        }

        public NetworkNamespace Namespace { get; }
        public NetworkStack Stack { get; }
        public StackThread Loop { get; }
        public TunLink Tun { get; }

        public List<TcpState> StatesOf(Func<FourTuple, bool> which)
        {
            lock (_changes)
            {
                var list = new List<TcpState>();
                foreach (var c in _changes.Where(c => which(c.Tuple)))
                {
                    if (list.Count == 0) list.Add(c.From);
                    list.Add(c.To);
                }
                return list;
            }
        }

        public void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
        {
            lock (_changes) _changes.Add((tuple, from, to));
        }

        /// <summary>The kernel's sockets in one state (ss -tan state X), as "local peer" lines.</summary>
        public string[] KernelSockets(string state) =>
            Namespace.Exec("ss", "-Htan", "state", state).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public string[] WaitForKernel(string state, int count = 1)
        {
            for (int i = 0; i < 100; i++) // bounded: 10 s
            {
                var s = KernelSockets(state);
                if (s.Length >= count) return s;
                Thread.Sleep(100);
            }
            return KernelSockets(state);
        }

        public void Dispose()
        {
            Tun.Dispose();
            Loop.Dispose();
            Namespace.Dispose();
        }
    }

    private const string Connect = "import socket,time,sys; s=socket.create_connection(('192.0.2.2',80)); ";

    [SkippableFact]
    public void The_kernel_sees_close_wait_fin_wait_2_and_time_wait_where_we_expect_them()
    {
        using var host = new Host();
        var listener = TcpListener.Start(host.Stack, 80);

        // We close first; the kernel application has not closed: the kernel socket sits in CLOSE-WAIT.
        using (host.Namespace.Background("python3", "-c", Connect + "time.sleep(8)"))
        {
            var ours = listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            ours.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Assert.Single(host.WaitForKernel("close-wait"));
            Assert.Equal(TcpState.FinWait2, ours.State);
            ours.Abort();
        }

        // The kernel shuts down its side; we hold ours open: the kernel socket sits in FIN-WAIT-2.
        using (host.Namespace.Background("python3", "-c", Connect + "s.shutdown(socket.SHUT_WR); time.sleep(8)"))
        {
            var ours = listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Assert.Equal(0, ours.ReadAsync(new byte[10]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult());
            Assert.Single(host.WaitForKernel("fin-wait-2"));
            Assert.Equal(TcpState.CloseWait, ours.State);
            ours.Abort();
        }

        // The kernel closes first: its socket, not ours, ends in TIME-WAIT.
        using (host.Namespace.Background("python3", "-c", Connect + "s.sendall(b'x'*1000); s.close(); time.sleep(3)"))
        {
            var ours = listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            var buf = new byte[4096];
            while (ours.ReadAsync(buf).AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult() > 0) { }
            ours.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
            Assert.Contains(host.WaitForKernel("time-wait"), l => l.Contains("192.0.2.2:80"));
            Assert.Equal(TcpState.Closed, ours.State);
        }
    }

    [SkippableFact]
    public void S9_a_kernel_application_that_closes_on_end_of_stream_answers_our_fin()
    {
        using var host = new Host();
        // Our own capture tap on the stack: every packet in and out of the TUN device, with our state changes.
        var file = Path.Combine(Path.GetTempPath(), $"synack-s9-{Guid.NewGuid():N}.pcapng");
        var tap = new CaptureTap(File.Create(file));
        host.Loop.Invoke(() => tap.Attach(host.Stack));
        using var server = host.Namespace.Background("python3", "-c",
            "import socket; l=socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('192.0.2.1',5000)); l.listen(1); print('listening', flush=True)\n" +
            "c,_=l.accept()\nwhile c.recv(65536): pass\nc.close()");
        TcpConnection? conn = null;
        for (int i = 0; i < 50 && conn is null; i++)
        {
            try
            {
                conn = TcpConnection.ConnectAsync(host.Stack, IpAddr.Parse(NetworkNamespace.KernelAddress), 5000).WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
            }
            catch (SocketException)
            {
                Thread.Sleep(100); // python is still starting: bounded retries
            }
        }
        Assert.NotNull(conn);
        conn!.WriteAsync(new byte[1000]).AsTask().WaitAsync(TimeSpan.FromSeconds(5)).GetAwaiter().GetResult();
        // Let the kernel acknowledge the data first, so that its delayed ACK does not cross our FIN.
        for (int i = 0; i < 50; i++)
        {
            bool acked = false;
            host.Loop.Invoke(() => acked = conn.Protocol.SndUna == conn.Protocol.SndMax);
            if (acked) break;
            Thread.Sleep(20);
        }
        conn.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        for (int i = 0; i < 50 && conn.State != TcpState.TimeWait; i++) Thread.Sleep(100);
        var states = host.StatesOf(t => t == conn.Tuple);
        Assert.Equal([TcpState.Closed, TcpState.SynSent, TcpState.Established, TcpState.FinWait1, TcpState.TimeWait], states);

        // And on the wire: after our FIN, exactly one segment from the kernel, FIN and ACK together, acknowledging it.
        host.Loop.Invoke(tap.Dispose);
        try
        {
            var rows = NetworkNamespace.Run("tshark", "-r", file, "-n", "-T", "fields", "-E", "separator=/t",
                    "-e", "ip.src", "-e", "tcp.flags.fin", "-e", "tcp.flags.ack", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.srcport")
                .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).Where(r => r[6] == "5000" || r[0] == NetworkNamespace.StackAddress).ToArray();
            int ourFin = Array.FindLastIndex(rows, r => r[0] == NetworkNamespace.StackAddress && r[1] == "1");
            Assert.True(ourFin >= 0, $"our FIN is not in the capture: {string.Join(" | ", rows.Select(r => string.Join(",", r)))}");
            long finAcked = long.Parse(rows[ourFin][3], System.Globalization.CultureInfo.InvariantCulture) + 1;
            var after = rows[(ourFin + 1)..].Where(r => r[0] == NetworkNamespace.KernelAddress).ToArray();
            // No separate ACK of our FIN: the only kernel segment acknowledging it is its FIN+ACK.
            var acking = after.Where(r => r[2] == "1" && long.Parse(r[4], System.Globalization.CultureInfo.InvariantCulture) >= finAcked).ToArray();
            var reply = Assert.Single(acking);
            Assert.Equal(["1", "1"], reply[1..3]);                                      // FIN and ACK in one segment
            Assert.Single(after, r => r[1] == "1");
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void Keep_alive_both_ways_and_a_dead_device_times_ours_out()
    {
        var keepAlive = ConnectionOptions.Default with
        {
            KeepAlive = true,
            KeepAliveIdle = TimeSpan.FromSeconds(1),
            KeepAliveInterval = TimeSpan.FromSeconds(1),
            KeepAliveCount = 3,
        };
        using var host = new Host(keepAlive);
        var listener = TcpListener.Start(host.Stack, 80);
        // The kernel probes us every second (SO_KEEPALIVE, TCP_KEEPIDLE/INTVL 1 s); we answer, so it stays.
        using var client = host.Namespace.Background("python3", "-c",
            Connect + "s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, 1); " +
            "s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, 1); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3); time.sleep(20)");
        var ours = listener.AcceptAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10)).GetAwaiter().GetResult();
        long before = 0;
        host.Loop.Invoke(() => before = host.Stack.Statistics.PacketsIn);
        Thread.Sleep(4000); // real time: the peers' keep-alive timers run on the real clock
        long after = 0;
        host.Loop.Invoke(() => after = host.Stack.Statistics.PacketsIn);
        Assert.True(after - before >= 4, $"{after - before} packets in 4 s: the kernel's probes and the answers to ours");
        Assert.Equal(TcpState.Established, ours.State);
        Assert.Contains(host.KernelSockets("established"), l => l.Contains("192.0.2.2:80"));

        // The device goes down: our probes go nowhere and reading fails with TimedOut.
        host.Tun.SetUp(false);
        var ex = Assert.Throws<SocketException>(() => ours.ReadAsync(new byte[10]).AsTask().WaitAsync(TimeSpan.FromSeconds(15)).GetAwaiter().GetResult());
        Assert.Equal(SocketError.TimedOut, ex.SocketErrorCode);
    }
}
