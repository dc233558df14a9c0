using System.Diagnostics;
using System.Globalization;
using Synack.Tun;

namespace Synack.KernelBench;

/// <summary>
/// Idle connections held open through TUN by real kernel clients: <c>synack serve</c> in a namespace of
/// the bench's own, the kernel's sockets (a process of their own in the same namespace, many local
/// addresses so ports do not run out) opening and holding them to a raw accept loop (discard, port 9)
/// and to Kestrel (port 80), then closing every one. Synack's memory per connection (managed heap after
/// a full collection, and RSS) beside the kernel's own for its ends (the TCP slab), the time to open
/// them all, and that every one closed: no connection, orphan or TIME-WAIT left on either side.
/// </summary>
internal static class HoldBench
{
    private const string StackAddress = "192.0.2.2";
    private const string KernelAddress = "192.0.2.1";
    private const string FirstClient = "192.0.2.10";
    private const string Group = "held through TUN";

    public static List<BenchRow> Run(int count, Action<string> progress)
    {
        if (NetworkNamespace.WhyNot(tun: true) is { } why) return [Skipped("everything", why)];
        if (SynackProgram.Self() is not { } self) return [Skipped("everything", "runs only from the synack program")];
        if (!File.Exists("/proc/slabinfo")) return [Skipped("everything", "/proc/slabinfo is not readable")];
        var rows = new List<BenchRow>();
        using var ns = NetworkNamespace.Create("synack-hold");
        progress($"hold: synack serve in a namespace of its own, {count:N0} kernel clients to hold");
        ns.Start(l => l.StartsWith("ready", StringComparison.Ordinal), TimeSpan.FromSeconds(30), [.. self, "serve", "--tun", "syn0", "--address", StackAddress, "--peer", KernelAddress + "/24", "--quiet", "--kernel-http", "8081"]);
        int addresses = (count + HoldClients.PerAddress - 1) / HoldClients.PerAddress;
        var first = System.Net.IPAddress.Parse(FirstClient).GetAddressBytes();
        if (first[3] + addresses > 254) return [Skipped("everything", $"{count:N0} connections need {addresses} client addresses, more than the /24 holds")];
        for (int i = 0; i < addresses; i++) ns.Exec("ip", "addr", "add", $"192.0.2.{first[3] + i}/24", "dev", "syn0");
        ns.Exec("sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=1024 65535");

        rows.AddRange(Hold(ns, self, 9, "raw accept loop (discard)", count, progress));
        int kestrel = Math.Max(1, count / 5); // Kestrel's own per-connection state is several times the stack's: a fifth as many keeps the row in memory and time
        rows.AddRange(Hold(ns, self, 80, "Kestrel (HTTP/1.1, no request yet)", kestrel, progress));
        return rows;
    }

    private static List<BenchRow> Hold(NetworkNamespace ns, string[] self, int port, string what, int count, Action<string> progress)
    {
        var release = Path.Combine(Path.GetTempPath(), $"synack-hold-{Environment.ProcessId}-{port}");
        var before = Stats(ns, gc: true);
        long slabBefore = TcpSlabBytes();
        int processes = (count + HoldClients.PerProcess - 1) / HoldClients.PerProcess;
        progress($"hold: {count:N0} connections to port {port} ({what}), from {processes} client processes");
        var clock = Stopwatch.StartNew();
        var clients = new List<NamespaceProcess>();
        for (int p = 0; p < processes; p++)
        {
            int index = p * HoldClients.PerProcess, n = Math.Min(HoldClients.PerProcess, count - index);
            clients.Add(ns.Start(null, TimeSpan.Zero, [.. self, "bench-hold-clients", "--to", $"{StackAddress}:{port}", "--from", FirstClient,
                "--index", index.ToString(CultureInfo.InvariantCulture), "--count", n.ToString(CultureInfo.InvariantCulture), "--release", $"{release}-{p}"]));
        }
        static bool Held(NamespaceProcess c) => c.Output.Any(l => l.StartsWith("held", StringComparison.Ordinal));
        while (!clients.All(Held))
        {
            if (clients.FirstOrDefault(c => c.HasExited && !Held(c)) is { } died) throw new InvalidOperationException("a client process ended before holding its connections: " + string.Join(" / ", died.Output));
            if (clock.Elapsed > TimeSpan.FromMinutes(10)) throw new InvalidOperationException($"the clients did not open {count:N0} connections within 10 minutes");
            Thread.Sleep(50);
        }
        double openSeconds = clock.Elapsed.TotalSeconds;
        long failed = clients.Sum(c => c.Output.Where(l => l.StartsWith("connect failed", StringComparison.Ordinal)).Count());
        var open = Stats(ns, gc: true, states: true);
        string counters = string.Join(", ", open.Where(p => !p.Key.StartsWith("state.", StringComparison.Ordinal) && p.Key.Contains('.') && p.Value > 0).Select(p => $"{p.Key} {p.Value}"));
        long slabOpen = TcpSlabBytes();
        string held = $"{processes} processes opened {count:N0} connections in {openSeconds:F1} s ({failed} connects failed), Synack held {open["connections"]:N0} ({counters})";
        progress($"hold: {held}; Synack holds {open["connections"]:N0}; closing");
        // One client process closes at a time (19,000 connections): all at once, a million closes would
        // make more orphans than the kernel keeps (tcp_max_orphans, 131,072 here; beyond it close() sends
        // RST and forgets the socket at once), and a burst of FINs and RSTs beyond the TUN device's queue
        // is dropped on the kernel's side. A dropped RST from a socket the kernel has already forgotten
        // leaves the connection ESTABLISHED at the other end for good, as it would on a kernel server
        // with no keep-alive: that is the network losing the close, not the stack leaking it.
        long droppedBefore = TxDropped(ns);
        var closing = Stopwatch.StartNew();
        for (int p = 0; p < clients.Count; p++)
        {
            // Closing returns at once, so the processes alone do not pace it: the next one goes when the
            // kernel's orphans (its closed ends still waiting for Synack's FIN) are few again.
            var paced = Stopwatch.StartNew();
            while (KernelOrphans(ns) > OrphansBeforeNextClose && paced.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(100);
            File.WriteAllText($"{release}-{p}", "");
            try
            {
                if (!clients[p].WaitForExit(TimeSpan.FromMinutes(5))) throw new InvalidOperationException("a client process did not close its connections within 5 minutes");
            }
            finally
            {
                File.Delete($"{release}-{p}");
            }
        }
        double closeSeconds = closing.Elapsed.TotalSeconds;
        long dropped = TxDropped(ns) - droppedBefore;
        // Every connection gone from the stack (the kernel closed first: Synack passes LAST-ACK, no
        // TIME-WAIT of its own), and the kernel's TIME-WAIT ends after its 60 s: both looked at, bounded.
        var settle = Stopwatch.StartNew();
        Dictionary<string, long> after;
        long kernelTimeWait;
        do
        {
            Thread.Sleep(5000);
            after = Stats(ns, gc: false);
            kernelTimeWait = KernelTimeWait(ns);
        }
        while ((after["connections"] > 0 || after["orphans"] > 0 || kernelTimeWait > 0) && settle.Elapsed < TimeSpan.FromSeconds(90));
        after = Stats(ns, gc: true, states: true);
        string left = string.Join(", ", after.Where(p => p.Key.StartsWith("state.", StringComparison.Ordinal)).Select(p => $"{p.Value} {p.Key["state.".Length..]}"));
        bool clean = after["connections"] == 0 && after["timewait"] == 0 && after["orphans"] == 0 && kernelTimeWait == 0;
        string note = $"{held}; closed in {closeSeconds:F1} s ({dropped} packets dropped at the device towards Synack); after closing: Synack {after["connections"]} connections, {after["timewait"]} TIME-WAIT, {after["orphans"]} orphans, kernel {kernelTimeWait} TIME-WAIT after {settle.Elapsed.TotalSeconds:F0} s{(clean ? " (all closed cleanly)" : $" — NOT ALL CLOSED ({left})")}; "
            + $"heap after closing {(double)(after["heap"] - before["heap"]) / count:F0} B per connection left; "
            + $"free space in the heap while held (not counted above) {(double)open.GetValueOrDefault("fragmented") / count:F0} B per connection";
        double heapPer = (double)(open["heap"] - before["heap"]) / count;
        double slabPer = (double)(slabOpen - slabBefore) / count;
        double rssPer = (double)(open["rss"] - before["rss"]) / count;
        return
        [
            new BenchRow(Group, $"{count:N0} idle, {what}: Synack's managed heap", "B/conn", heapPer, null, "", HigherIsBetter: false)
            {
                Target = port == 9 ? 1536 : null,
                Note = note,
            },
            new BenchRow(Group, $"{count:N0} idle, {what}: Synack's RSS against the kernel's TCP slab for its ends", "B/conn", rssPer, slabPer, "kernel TCP slab", HigherIsBetter: false),
            new BenchRow(Group, $"{count:N0} idle, {what}: time to open them all", "s", openSeconds, null, "", HigherIsBetter: false),
        ];
    }

    private static Dictionary<string, long> Stats(NetworkNamespace ns, bool gc, bool states = false)
    {
        var text = ns.Exec(TimeSpan.FromMinutes(2), "curl", "-s", "-f", "--max-time", "110", $"http://{KernelAddress}:8081/stats?gc={gc}&states={states}".ToLowerInvariant());
        return text.Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(l => l.Split(' '))
            .ToDictionary(p => p[0], p => long.Parse(p[1], CultureInfo.InvariantCulture));
    }

    /// <summary>Bytes in the machine's TCP slab (the kernel's tcp_sock objects): active objects × object size.</summary>
    private static long TcpSlabBytes()
    {
        foreach (var line in File.ReadLines("/proc/slabinfo"))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 3 && f[0] == "TCP") return long.Parse(f[1], CultureInfo.InvariantCulture) * long.Parse(f[3], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>The namespace's TIME-WAIT sockets towards the stack (not the bench's own /stats requests).</summary>
    private static long KernelTimeWait(NetworkNamespace ns) =>
        ns.Exec("ss", "-H", "-tan", "state", "time-wait", "dst", StackAddress).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Orphans the kernel may hold before another client process closes: a third of tcp_max_orphans here (131,072), less one process's 19,000.</summary>
    private const int OrphansBeforeNextClose = 25_000;

    /// <summary>The kernel's orphaned TCP sockets (closed by their process, not yet done), from /proc/net/sockstat.</summary>
    private static long KernelOrphans(NetworkNamespace ns)
    {
        foreach (var line in ns.Exec("cat", "/proc/net/sockstat").Split('\n'))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            int i = Array.IndexOf(f, "orphan");
            if (f.Length > 0 && f[0] == "TCP:" && i > 0 && i + 1 < f.Length) return long.Parse(f[i + 1], CultureInfo.InvariantCulture);
        }
        return 0;
    }

    /// <summary>Packets the kernel could not queue to the TUN device (Synack not reading fast enough).</summary>
    private static long TxDropped(NetworkNamespace ns) =>
        long.Parse(ns.Exec("cat", "/sys/class/net/syn0/statistics/tx_dropped").Trim(), CultureInfo.InvariantCulture);

    private static BenchRow Skipped(string what, string why) => new(Group, what, "", null, null, "") { Note = "skipped: " + why };
}
