namespace Synack.Conformance.Tests;

/// <summary>Our own scripts (conformance/): one per scenario of docs/scenarios.md that a script can express.</summary>
public class OwnScriptTests
{
    public static TheoryData<string> Scripts()
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(Locations.OwnScripts(), "*.pkt").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_passes(string name)
    {
        var result = PacketdrillRunner.RunFile(Path.Combine(Locations.OwnScripts(), name));
        Assert.True(result.Result == ScriptOutcome.Pass,
            $"{result.ResultName} at line {result.Line}: {result.Reason}\nexpected {result.Expected}\nactual   {result.Actual}\n{string.Join("\n", result.Transcript)}");
    }

    [Fact]
    public void Every_study_note_scenario_that_a_script_can_express_has_one()
    {
        var names = Directory.GetFiles(Locations.OwnScripts(), "*.pkt").Select(Path.GetFileName).ToList();
        foreach (var s in new[] { "s1-", "s2-", "s3-", "s4-", "s5-", "s6-", "s7-", "s8-", "s9-", "s10-", "s11-" })
        {
            Assert.Contains(names, n => n!.StartsWith(s, StringComparison.Ordinal));
        }
    }
}
