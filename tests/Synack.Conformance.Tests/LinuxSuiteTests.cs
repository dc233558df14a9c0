namespace Synack.Conformance.Tests;

/// <summary>
/// Google's packetdrill scripts for Linux, in their own dialect, against the Linux profile (their
/// defaults.sh mapped onto it). The floor is the level reached: a change that makes a script stop
/// passing fails here; what is out of scope must say why before it runs.
/// </summary>
public class LinuxSuiteTests
{
    // Raise when more passes; never lower quietly.
    private const int Passing = 38;

    private static readonly Lazy<ConformanceReport> Report = new(() => ConformanceSuite.Run(Locations.LinuxSuiteDirectory()));

    [SkippableFact]
    public void The_linux_scripts_do_not_fall_below_the_level_reached()
    {
        Locations.LinuxSuiteDirectory();
        var r = Report.Value;
        Assert.True(r.Scripts.Count >= 40, $"{r.Scripts.Count} scripts");
        string failures = string.Join("\n", r.Scripts.Where(s => s.Result == ScriptOutcome.Fail).Select(s => $"{s.Path}:{s.Line}: {s.Reason}"));
        Assert.True(r.Passed >= Passing, $"{r.Passed} passed (floor {Passing}), {r.Failed} failed\n{failures}");
        Assert.All(r.Scripts.Where(s => s.Result == ScriptOutcome.Unsupported), s => Assert.False(string.IsNullOrWhiteSpace(s.Reason)));
    }

    [SkippableFact]
    public void The_scripts_run_from_linux_defaults_not_freebsd_ones()
    {
        var dir = Locations.LinuxSuiteDirectory();
        var r = PacketdrillRunner.RunFile(Path.Combine(dir, "tcp", "mss", "mss-getsockopt-tcp_maxseg-server.pkt"));
        Assert.True(r.Result == ScriptOutcome.Pass, $"{r.Line}: {r.Reason}\n{r.Expected}\n{r.Actual}");
        // defaults.sh was read: its settings are listed, those without a counterpart with the reason.
        Assert.Contains(r.Notes, n => n.Contains("net.ipv4.tcp_pacing_ss_ratio", StringComparison.Ordinal));
    }
}
