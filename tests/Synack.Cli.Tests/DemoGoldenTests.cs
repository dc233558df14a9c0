using System.Security.Cryptography;

namespace Synack.Cli.Tests;

/// <summary>
/// The demo's output, frozen: ladders, traces and captures of every scenario as they were before the
/// simulator and the socket layer were reshaped. A refactoring that changes one byte of what the user
/// sees fails here, with the first line that differs.
/// </summary>
public class DemoGoldenTests
{
    private static string Golden(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", name));

    private static string Demo(params string[] args)
    {
        var (code, output, error) = Cli.Run(args);
        Assert.True(code == 0, $"synack {string.Join(' ', args)} exited {code}: {error}");
        return output;
    }

    private static void SameText(string expected, string actual)
    {
        var want = expected.ReplaceLineEndings("\n").Split('\n');
        var have = actual.ReplaceLineEndings("\n").Split('\n');
        for (int i = 0; i < Math.Min(want.Length, have.Length); i++)
        {
            Assert.True(want[i] == have[i], $"line {i + 1} differs:\n  golden: {want[i]}\n  now:    {have[i]}");
        }
        Assert.True(want.Length == have.Length, $"golden has {want.Length} lines, the output {have.Length}");
    }

    [Fact]
    public void Every_scenario_on_the_stack_prints_the_golden_ladder() =>
        SameText(Golden("demo-all.txt"), Demo("demo", "--all"));

    [Fact]
    public void Every_scenario_on_the_stack_prints_the_golden_trace() =>
        SameText(Golden("demo-all-trace.txt"), Demo("demo", "--all", "--trace"));

    [Fact]
    public void The_bare_connection_engine_prints_the_golden_ladders() =>
        SameText(Golden("demo-all-bare.txt"), Demo("demo", "--all", "--engine", "bare"));

    [Fact]
    public void Every_scenario_writes_the_golden_capture_byte_for_byte()
    {
        foreach (var line in Golden("captures.sha256").Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var parts = line.Split(' ');
            var file = Path.Combine(Path.GetTempPath(), $"synack-golden-{Guid.NewGuid():N}.pcapng");
            try
            {
                Demo("demo", "--scenario", parts[1], "--capture", file);
                var hash = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
                Assert.True(hash == parts[0], $"the capture of {parts[1]} changed: {hash}");
            }
            finally
            {
                File.Delete(file);
            }
        }
    }
}
