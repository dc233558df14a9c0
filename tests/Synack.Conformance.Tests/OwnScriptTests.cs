namespace Synack.Conformance.Tests;

/// <summary>Our own scripts (conformance/): one per scenario of docs/scenarios.md that a script can express.</summary>
public class OwnScriptTests
{
    public static TheoryData<string> Scripts() => Requirements.ScriptsIn(Locations.OwnScripts());

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Script_passes(string name) => Requirements.Passed(PacketdrillRunner.RunFile(Path.Combine(Locations.OwnScripts(), name)));

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
