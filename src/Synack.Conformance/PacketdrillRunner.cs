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
        return Kernel.KernelTarget.Run(v6, kernel => new ScriptRun(script, null, capture, kernel).Execute(displayPath ?? script.Path));
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
