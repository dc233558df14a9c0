using System.Diagnostics;
using System.Text;
using Synack.Tun;

namespace Synack.Conformance.Kernel;

/// <summary>
/// The Linux kernel as the stack under test, as packetdrill tests it: a network namespace of its own
/// for each script, a TUN device <c>tun0</c> in it through which the script's packets go in and the
/// kernel's come out, and a thread inside the namespace that makes the script's system calls on real
/// sockets. The kernel is 198.51.100.1 (2001:db8:1::1), the script's peer 192.0.2.1 (2001:db8::1):
/// documentation addresses, routed only to the device; the namespace is deleted when the run ends,
/// whether the script passed, failed or threw.
/// </summary>
internal sealed unsafe partial class KernelTarget
{
    public static readonly string KernelV4 = "198.51.100.1", PeerV4 = "192.0.2.1";
    public static readonly string KernelV6 = "2001:db8:1::1", PeerV6 = "2001:db8::1";

    private readonly NetworkNamespace _namespace;
    private readonly int _tun;
    private long _start = Stopwatch.GetTimestamp();
    private readonly byte[] _readBuffer = new byte[KernelNative.VnetHeaderLength + 65536]; // polled every millisecond: one buffer

    private KernelTarget(NetworkNamespace ns, int tun)
    {
        _namespace = ns;
        _tun = tun;
    }

    /// <summary>The namespace's name.</summary>
    public string Namespace => _namespace.Name;

    /// <summary>The kernel's tick (1/CONFIG_HZ, read from /proc/config.gz; 1 ms when it cannot be read): its timers fire on it.</summary>
    public static TimeSpan Jiffy { get; } = ReadJiffy();

    private static TimeSpan ReadJiffy()
    {
        try
        {
            using var file = File.OpenRead("/proc/config.gz");
            using var gz = new System.IO.Compression.GZipStream(file, System.IO.Compression.CompressionMode.Decompress);
            using var reader = new StreamReader(gz);
            for (string? line; (line = reader.ReadLine()) is not null;)
            {
                if (line.StartsWith("CONFIG_HZ=", StringComparison.Ordinal) && int.TryParse(line.AsSpan(10), out int hz) && hz > 0)
                    return TimeSpan.FromSeconds(1.0 / hz);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
        }
        return TimeSpan.FromMilliseconds(1);
    }

    /// <summary>Why the kernel cannot be tested here, or null when it can.</summary>
    public static string? WhyNot() => NetworkNamespace.WhyNot(tun: true);

    /// <summary>
    /// Runs <paramref name="body"/> on a thread inside a new namespace with <c>tun0</c> up: sockets
    /// made on that thread are the namespace's. Everything is torn down when it returns or throws.
    /// </summary>
    public static T Run<T>(bool ipv6, Func<KernelTarget, T> body)
    {
        CleanUpOnce();
        if (Volatile.Read(ref s_interrupted) != 0) throw new OperationCanceledException("the run was interrupted");
        using var ns = NetworkNamespace.Create(Prefix);
        lock (Live) Live.Add(ns.Name);
        T result = default!;
        Exception? error = null;
        var thread = new Thread(() =>
        {
            int target = KernelNative.Open($"/var/run/netns/{ns.Name}", KernelNative.O_CLOEXEC);
            if (target < 0 || KernelNative.SetNs(target, KernelNative.CLONE_NEWNET) < 0)
            {
                error = new IOException($"cannot enter the namespace {ns.Name}: {KernelNative.Describe(KernelNative.LastErrno)}");
                return;
            }
            KernelNative.Close(target);
            // This thread now lives in the namespace for good; it ends with the run.
            int tun = -1;
            try
            {
                tun = OpenTun("tun0");
                Configure(ns, ipv6);
                result = body(new KernelTarget(ns, tun));
            }
            catch (Exception e)
            {
                error = e;
            }
            finally
            {
                if (tun >= 0) KernelNative.Close(tun);
            }
        }, 16 * 1024 * 1024) { Name = $"packetdrill {ns.Name}", IsBackground = true };
        thread.Start();
        thread.Join();
        lock (Live) Live.Remove(ns.Name);
        if (error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw();
        return result;
    }

    private const string Prefix = "synack-pd";
    private static readonly HashSet<string> Live = [];
    private static int s_cleanup, s_interrupted;
    private static readonly List<System.Runtime.InteropServices.PosixSignalRegistration> Signals = [];

    /// <summary>
    /// Once per process: deletes namespaces a killed run of ours left (named synack-pd-PID-N, PID gone),
    /// and makes an interrupted run (SIGINT, SIGTERM, or the process exiting) delete the ones it has.
    /// </summary>
    private static void CleanUpOnce()
    {
        if (Interlocked.Exchange(ref s_cleanup, 1) != 0) return;
        try
        {
            foreach (var line in NetworkNamespace.Run("ip", TimeSpan.FromSeconds(30), "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = line.Split(' ')[0];
                var parts = name.Split('-');
                if (!name.StartsWith(Prefix + "-", StringComparison.Ordinal) || parts.Length < 4 || !int.TryParse(parts[2], out int pid)) continue;
                if (pid != Environment.ProcessId && !Directory.Exists($"/proc/{pid}")) Delete(name);
            }
        }
        catch (InvalidOperationException)
        {
        }
        void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
        {
            // No new namespace from here on, and the ones in use go now. The process is not ended under
            // the clean-up: the run stops at its next script (OperationCanceledException) and says so.
            Volatile.Write(ref s_interrupted, 1);
            DeleteLive();
            context.Cancel = true;
        }
        Signals.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal));
        Signals.Add(System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => DeleteLive();
    }

    private static void DeleteLive()
    {
        var names = new HashSet<string>();
        lock (Live) names.UnionWith(Live);
        // Also one being made at this moment, not yet in the list: every namespace named for this process.
        try
        {
            foreach (var line in NetworkNamespace.Run("ip", TimeSpan.FromSeconds(30), "netns", "list").Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                var name = line.Split(' ')[0];
                if (name.StartsWith($"{Prefix}-{Environment.ProcessId}-", StringComparison.Ordinal)) names.Add(name);
            }
        }
        catch (InvalidOperationException)
        {
        }
        foreach (var name in names) Delete(name);
    }

    private static void Delete(string name)
    {
        try
        {
            // The name goes first (what must not outlive the run), then whatever still runs inside (a
            // command of the script) — never this process, whose thread may be the one inside.
            var pids = NetworkNamespace.Run("ip", TimeSpan.FromSeconds(30), "netns", "pids", name).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            NetworkNamespace.Run("ip", TimeSpan.FromSeconds(30), "netns", "del", name);
            foreach (var pid in pids)
            {
                if (pid.Trim() != Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    NetworkNamespace.Run("/bin/kill", TimeSpan.FromSeconds(30), "-KILL", pid.Trim());
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static int OpenTun(string name)
    {
        int fd = KernelNative.Open("/dev/net/tun", KernelNative.O_RDWR | KernelNative.O_CLOEXEC | KernelNative.O_NONBLOCK);
        if (fd < 0) throw new IOException($"cannot open /dev/net/tun: {KernelNative.Describe(KernelNative.LastErrno)}");
        byte* ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        Encoding.ASCII.GetBytes(name).CopyTo(new Span<byte>(ifr, 16));
        // As packetdrill's device: a virtio header on every packet and the offloads of a typical NIC, so
        // the kernel hands over whole TSO packets (a script's 10000-byte line is one of them).
        *(short*)(ifr + 16) = KernelNative.IFF_TUN | KernelNative.IFF_NO_PI | KernelNative.IFF_VNET_HDR;
        if (KernelNative.Ioctl(fd, KernelNative.TUNSETIFF, ifr) < 0
            || KernelNative.Ioctl(fd, KernelNative.TUNSETOFFLOAD, (void*)(nuint)(KernelNative.TUN_F_CSUM | KernelNative.TUN_F_TSO4 | KernelNative.TUN_F_TSO6 | KernelNative.TUN_F_TSO_ECN)) < 0)
        {
            int errno = KernelNative.LastErrno;
            KernelNative.Close(fd);
            throw new IOException($"TUNSETIFF/TUNSETOFFLOAD {name}: {KernelNative.Describe(errno)}");
        }
        return fd;
    }

    private static void Configure(NetworkNamespace ns, bool ipv6)
    {
        // No router solicitations, no DAD, no MLD reports on the device: only TCP goes through it.
        ns.Exec("sysctl", "-q", "-w", "net.ipv6.conf.tun0.disable_ipv6=" + (ipv6 ? "0" : "1"));
        if (ipv6)
        {
            ns.Exec("sysctl", "-q", "-w", "net.ipv6.conf.tun0.accept_dad=0", "net.ipv6.conf.tun0.router_solicitations=0", "net.ipv6.conf.tun0.mldv2_unsolicited_report_interval=0", "net.ipv6.conf.tun0.mldv1_unsolicited_report_interval=0");
            ns.Exec("ip", "-6", "addr", "add", KernelV6 + "/64", "dev", "tun0", "nodad");
        }
        ns.Exec("ip", "addr", "add", KernelV4 + "/24", "dev", "tun0");
        ns.Exec("ip", "link", "set", "tun0", "up");
        ns.Exec("ip", "route", "add", "192.0.2.0/24", "dev", "tun0");
        // A host route to the peer, as packetdrill makes it: scripts change it (ip -6 route change 2001:DB8::1 ... advmss 600).
        if (ipv6) ns.Exec("ip", "-6", "route", "add", PeerV6 + "/128", "dev", "tun0");
    }

    /// <summary>Starts the script's clock (after its init command, as packetdrill does).</summary>
    public void StartClock() => _start = Stopwatch.GetTimestamp();

    /// <summary>Time since <see cref="StartClock"/>: the script's clock.</summary>
    public TimeSpan Now => Stopwatch.GetElapsedTime(_start);

    /// <summary>
    /// Hands a packet to the kernel as if it had arrived on the device; with <paramref name="segmentSize"/>,
    /// as a GRO packet of segments that size (packetdrill's <c>--mss</c>).
    /// </summary>
    public void Inject(ReadOnlySpan<byte> packet, int segmentSize = 0)
    {
        var frame = new byte[KernelNative.VnetHeaderLength + packet.Length];
        packet.CopyTo(frame.AsSpan(KernelNative.VnetHeaderLength));
        if (segmentSize > 0 && Synack.Wire.IpHeader.TryParse(packet, out var ip, out _) && ip.Protocol == 6 && ip.PayloadLength >= 20)
        {
            // A GSO packet must say where its checksum goes (NEEDS_CSUM), and carry the pseudo-header's sum there.
            var hdr = frame.AsSpan(0, KernelNative.VnetHeaderLength);
            var tcp = frame.AsSpan(KernelNative.VnetHeaderLength + ip.HeaderLength, ip.PayloadLength);
            int tcpHeader = (tcp[12] >> 4) * 4;
            hdr[0] = 1; // VIRTIO_NET_HDR_F_NEEDS_CSUM
            hdr[1] = (byte)(ip.Source.IsV6 ? 4 : 1); // VIRTIO_NET_HDR_GSO_TCPV6 or _TCPV4
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[2..], (ushort)(ip.HeaderLength + tcpHeader));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[4..], (ushort)segmentSize);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[6..], (ushort)ip.HeaderLength);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(hdr[8..], 16);
            System.Buffers.Binary.BinaryPrimitives.WriteUInt16BigEndian(tcp[16..], Synack.Wire.InternetChecksum.FoldPartial(
                Synack.Wire.InternetChecksum.PseudoHeader(ip.Source, ip.Destination, 6, ip.PayloadLength)));
        }
        fixed (byte* p = frame)
        {
            if (KernelNative.Write(_tun, p, (nuint)frame.Length) < 0)
                throw new IOException($"writing to tun0: {KernelNative.Describe(KernelNative.LastErrno)}");
        }
    }

    /// <summary>The segment size of the last packet <see cref="Receive"/> returned when it was a TSO packet (the NIC would cut it so); 0 otherwise.</summary>
    public int LastSegmentSize { get; private set; }

    /// <summary>A packet the kernel sent, if one is waiting; waits at most <paramref name="timeoutMs"/> for one.</summary>
    public byte[]? Receive(int timeoutMs)
    {
        var buffer = _readBuffer;
        fixed (byte* p = buffer)
        {
            nint n = KernelNative.Read(_tun, p, (nuint)buffer.Length);
            if (n < 0 && timeoutMs > 0)
            {
                var pfd = new KernelNative.PollFd { Fd = _tun, Events = KernelNative.POLLIN };
                KernelNative.Poll(&pfd, 1, timeoutMs);
                n = KernelNative.Read(_tun, p, (nuint)buffer.Length);
            }
            if (n <= KernelNative.VnetHeaderLength) return null;
            // virtio_net_hdr: gso_type at 1, gso_size (little-endian) at 4; a TSO packet stands for segments of that size.
            LastSegmentSize = buffer[1] != 0 ? System.Buffers.Binary.BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(4)) : 0;
            var packet = buffer.AsSpan(KernelNative.VnetHeaderLength, (int)n - KernelNative.VnetHeaderLength).ToArray();
            // A packet whose checksum the "NIC" is to finish (VIRTIO_NET_HDR_F_NEEDS_CSUM): finish it, as the wire would see it.
            if ((buffer[0] & 1) != 0 && Synack.Wire.IpHeader.TryParse(packet, out var ip, out _) && ip.Protocol == 6)
                Synack.Wire.InternetChecksum.FillTcp(ip.Source, ip.Destination, packet.AsSpan(ip.HeaderLength, ip.PayloadLength));
            return packet;
        }
    }

    /// <summary>Runs a shell command of the script inside the namespace, from <paramref name="directory"/>: its output, or why it failed.</summary>
    public (int Exit, string Output) Shell(string command, string directory)
    {
        // Google's set_sysctls.py (not in the suite's common/) writes /proc/sys values and saves a
        // script that restores them; in a namespace of our own the restore is the namespace's deletion.
        command = "set_sysctls() { for kv in \"$@\"; do echo \"${kv#*=}\" > \"${kv%%=*}\" || return 1; done; }\n"
            + SetSysctls().Replace(command, "set_sysctls").Replace("/tmp/sysctl_restore_${PPID}.sh", "true", StringComparison.Ordinal);
        command = MapAddresses(command);
        var psi = new ProcessStartInfo("ip") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        foreach (var a in new[] { "netns", "exec", Namespace, "sh", "-c", command }) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException("cannot start ip netns exec");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromSeconds(30)))
        {
            p.Kill(entireProcessTree: true);
            return (-1, "timed out after 30 s");
        }
        return (p.ExitCode, (stdout.Result + stderr.Result).Trim());
    }

    /// <summary>
    /// packetdrill's own addresses in a script's commands are private ones (RFC 1918 for the kernel and
    /// its gateway, RFC 4193 unique-local ones for IPv6 and a --local_ip); here the kernel is a
    /// documentation address and the peer is on the device itself: routes go straight to tun0 and the
    /// kernel's address is ours. No private address reaches even the namespace.
    /// </summary>
    internal static string MapAddresses(string command)
    {
        command = GatewayHop().Replace(command, "");
        command = PrivateV4().Replace(command, KernelV4);
        return PrivateV6().Replace(command, KernelV6);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"\bvia\s+(192\.168\.[0-9.]+|f[cd][0-9a-fA-F]{0,2}:[0-9a-fA-F:]*)")]
    private static partial System.Text.RegularExpressions.Regex GatewayHop();

    [System.Text.RegularExpressions.GeneratedRegex(@"\b(192\.168|10\.[0-9]{1,3}|172\.(1[6-9]|2[0-9]|3[01]))\.[0-9]{1,3}\.[0-9]{1,3}\b")]
    private static partial System.Text.RegularExpressions.Regex PrivateV4();

    [System.Text.RegularExpressions.GeneratedRegex(@"(?<![0-9a-fA-F:])f[cd][0-9a-fA-F]{0,2}:[0-9a-fA-F:]*[0-9a-fA-F:](?![0-9a-fA-F:])")]
    private static partial System.Text.RegularExpressions.Regex PrivateV6();

    [System.Text.RegularExpressions.GeneratedRegex(@"\S*common/set_sysctls\.py")]
    private static partial System.Text.RegularExpressions.Regex SetSysctls();

}
