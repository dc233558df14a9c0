using System.Text.Json;

namespace Synack.Cli.Tests;

/// <summary>
/// `synack bench` as a smoke test: the groups that need neither root nor wall-clock judgement run in
/// their quick form and give sane figures. Nothing is timed here; the figures are checked for sense
/// (positive, within what memory and the Mathis bound allow), not for speed. The memory rows weigh the
/// whole process's heap, so this class runs alone: another test allocating meanwhile once made a
/// TIME-WAIT entry weigh -543 bytes.
/// </summary>
[Collection(nameof(HeapMeasuringCollection))]
public class BenchCommandTests
{
    private static (int Exit, string Out, string Err) Run(params string[] args) => Cli.Run(args);

    [Fact]
    public void Quick_memory_and_loss_groups_give_json_rows_with_figures_and_targets()
    {
        var (exit, output, error) = Run("bench", "--quick", "--only", "idle,time-wait,loss", "--json", "-");
        Assert.True(exit == 0, error);
        Assert.Contains("[1/3] idle", error); // progress goes to standard error, the table with it
        Assert.Contains("memory: TIME-WAIT entry", error);
        using var doc = JsonDocument.Parse(output);
        var rows = doc.RootElement.GetProperty("rows").EnumerateArray().ToDictionary(r => r.GetProperty("group").GetString() + ": " + r.GetProperty("name").GetString());

        var idle = rows["memory: idle connection (2,000 open)"];
        Assert.InRange(idle.GetProperty("synack").GetDouble(), 100, 100_000); // bytes per endpoint: more than nothing, less than a buffer's worth
        Assert.Equal(1024, idle.GetProperty("target").GetDouble());

        var timeWait = rows["memory: TIME-WAIT entry (2,000)"];
        Assert.InRange(timeWait.GetProperty("synack").GetDouble(), 16, 10_000);

        var loss = rows["loss (simulated link): 1 % loss, 20 ms RTT, MSS 1460"];
        double goodput = loss.GetProperty("synack").GetDouble(), mathis = loss.GetProperty("reference").GetDouble();
        Assert.Equal(1460 * 8 / 0.020 * 1.22 / 0.1 / 1e6, mathis, 2);
        Assert.InRange(goodput, 0.1, 3 * mathis); // virtual time: the same every run
        Assert.Equal(goodput / mathis, loss.GetProperty("ratio").GetDouble(), 2);
    }

    [Fact]
    public void An_unknown_group_is_refused_with_the_list()
    {
        var (exit, _, error) = Run("bench", "--only", "warp");
        Assert.Equal(2, exit);
        Assert.Contains("no group 'warp'", error);
        Assert.Contains("bulk, connections, latency", error);
    }
}

/// <summary>Tests that measure the process's heap: run with no other test beside them.</summary>
[CollectionDefinition(nameof(HeapMeasuringCollection), DisableParallelization = true)]
public sealed class HeapMeasuringCollection;
