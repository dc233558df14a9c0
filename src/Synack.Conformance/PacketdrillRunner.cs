using System.Text.RegularExpressions;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// Runs a packetdrill script against one <see cref="NetworkStack"/> on a virtual clock. The script
/// plays the remote peer: its <c>&lt;</c> packets are injected, its <c>&gt;</c> packets must be the
/// ones the stack sends, in order and in time, and its system calls go through a BSD socket layer
/// over the stack. Nothing here touches a kernel or a real clock.
/// </summary>
public static partial class PacketdrillRunner
{
    /// <summary>Runs the script in <paramref name="path"/>; <paramref name="profile"/> is the stack's starting configuration (FreeBSD's by default).</summary>
    /// <param name="capture">When given, every packet injected and sent is written here (pcapng), the injected ones commented with their script line.</param>
    public static ScriptResult RunFile(string path, ConnectionOptions? profile = null, string? displayPath = null, PcapNgWriter? capture = null) =>
        RunFile(path, ConformanceTarget.Synack, profile, displayPath, capture);

    /// <summary>Runs the script in <paramref name="path"/> against <paramref name="target"/> (the profile applies to Synack only).</summary>
    public static ScriptResult RunFile(string path, ConformanceTarget target, ConnectionOptions? profile = null, string? displayPath = null, PcapNgWriter? capture = null)
    {
        displayPath ??= path;
        PacketdrillScript script;
        try
        {
            script = PacketdrillParser.ParseFile(path);
        }
        catch (ScriptParseException e)
        {
            return new ScriptResult(displayPath, ScriptOutcome.Fail, e.Line, Reason: "parse error: " + e.Message);
        }
        return target == ConformanceTarget.Kernel ? RunOnKernel(script, displayPath, capture) : Run(script, profile, displayPath, capture);
    }

    /// <summary>True when the script is in Google's dialect (it runs Linux's defaults.sh or sets net.ipv4 sysctls).</summary>
    public static bool IsLinuxDialect(string path)
    {
        try
        {
            return PacketdrillParser.ParseFile(path).Events.Any(e => e.Kind == EventKind.Command && LinuxShell.IsLinux(e.Text));
        }
        catch (ScriptParseException)
        {
            return false;
        }
    }

    /// <summary>Why scripts cannot run against the kernel here (not Linux, not root, no /dev/net/tun, no iproute2), or null when they can.</summary>
    public static string? WhyNotKernel() => Kernel.KernelTarget.WhyNot();

    /// <summary>
    /// Runs a parsed script against this machine's Linux kernel, as packetdrill does: a network namespace
    /// and TUN device of its own (deleted afterwards), real sockets, real time. Throws
    /// <see cref="InvalidOperationException"/> with the reason when the kernel cannot be tested here.
    /// </summary>
    public static ScriptResult RunOnKernel(PacketdrillScript script, string? displayPath = null, PcapNgWriter? capture = null)
    {
        if (Kernel.KernelTarget.WhyNot() is { } why) throw new InvalidOperationException($"the kernel target {why}");
        bool v6 = script.Options.TryGetValue("ip_version", out var ipVersion) && ipVersion == "ipv6";
        WarmUpKernelTarget();
        return Kernel.KernelTarget.Run(v6, kernel => new ScriptRun(script, null, capture, kernel).Execute(displayPath ?? script.Path));
    }

    /// <summary>A generated scenario on the kernel: what it sends and returns is recorded, not held to lines.</summary>
    internal static ScriptResult RecordOnKernel(PacketdrillScript script, string displayPath, PcapNgWriter? capture = null)
    {
        if (Kernel.KernelTarget.WhyNot() is { } why) throw new InvalidOperationException($"the kernel target {why}");
        WarmUpKernelTarget();
        bool v6 = script.Options.TryGetValue("ip_version", out var ipVersion) && ipVersion == "ipv6";
        return Kernel.KernelTarget.Run(v6, kernel => new ScriptRun(script, null, capture, kernel, recording: true).Execute(displayPath));
    }

    /// <summary>
    /// A generated scenario on Synack with <paramref name="profile"/>: what it sends and returns is
    /// recorded. <paramref name="isns"/>: the ISNs the kernel chose, connection by connection, so that
    /// whatever depends on where an ISN falls is compared on the same draw.
    /// </summary>
    internal static ScriptResult RecordOnSynack(PacketdrillScript script, ConnectionOptions profile, string displayPath, PcapNgWriter? capture = null, IReadOnlyList<uint>? isns = null) =>
        new ScriptRun(script, profile, capture, recording: true, isns: isns).Execute(displayPath);

    private static int s_warm;

    /// <summary>
    /// The first script in a process would pay for compiling the runner's code (milliseconds per call,
    /// which a live kernel sees as lateness): a short script that goes through the usual calls runs
    /// first, once, and its result is dropped.
    /// </summary>
    private static void WarmUpKernelTarget()
    {
        if (Interlocked.Exchange(ref s_warm, 1) != 0) return;
        const string WarmUp = """
            0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
            +0 setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0
            +0 bind(3, ..., ...) = 0
            +0 listen(3, 1) = 0
            +0 < S 0:0(0) win 32792 <mss 1000,sackOK,nop,nop,nop,wscale 7>
            +0 > S. 0:0(0) ack 1 <...>
            +.01 < . 1:1(0) ack 1 win 257
            +0 accept(3, ..., ...) = 4
            +0 fcntl(4, F_SETFL, O_RDWR|O_NONBLOCK) = 0
            +0 getsockopt(4, SOL_SOCKET, SO_ERROR, [0], [4]) = 0
            +0 write(4, ..., 2000) = 2000
            +0 > P. 1:2001(2000) ack 1
            +.01 < . 1:1(0) ack 2001 win 257
            +0 < P. 1:101(100) ack 2001 win 257
            +0 poll([{fd=4, events=POLLIN, revents=POLLIN}], 1, 0) = 1
            +0 read(4, ..., 1000) = 100
            +0 %{ assert tcpi_state == 1 }%
            +0 close(4) = 0
            +0 close(3) = 0
            """;
        try
        {
            var script = PacketdrillParser.Parse(WarmUp, "warm-up.pkt");
            Kernel.KernelTarget.Run(false, kernel => new ScriptRun(script, null, null, kernel).Execute("warm-up.pkt"));
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ScriptParseException)
        {
            // A warm-up that cannot run says nothing about the scripts: they report for themselves.
        }
    }

    /// <summary>Runs a parsed script against a fresh stack with <paramref name="profile"/>, optionally writing its packets to <paramref name="capture"/>.</summary>
    public static ScriptResult Run(PacketdrillScript script, ConnectionOptions? profile = null, string? displayPath = null, PcapNgWriter? capture = null)
    {
        var run = new ScriptRun(script, profile, capture);
        return run.Execute(displayPath ?? script.Path);
    }

    [GeneratedRegex(@"^sysctl\s+-w\s+(?<name>[A-Za-z0-9_.]+)=(?<value>-?[0-9]+)$")]
    internal static partial Regex SysctlCommand();

    [GeneratedRegex(@"^sockstat\s+(?<args>[^|]*)\|(?<pipe>.*)$")]
    internal static partial Regex SockstatCommand();

    [GeneratedRegex(@"grep\s+-c\s+(?<state>[A-Z_0-9]+)\s*\|\s*grep\s+(?<count>[0-9]+)\s*$")]
    internal static partial Regex CountPipe();

    [GeneratedRegex(@"^tcpdrop\s+-s\s+(?<state>[A-Z_0-9]+)$")]
    internal static partial Regex TcpdropCommand();
}
