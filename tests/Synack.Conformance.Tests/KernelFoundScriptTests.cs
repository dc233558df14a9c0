namespace Synack.Conformance.Tests;

/// <summary>
/// Each divergence <c>synack diff</c> found and Synack now models has its minimal script in
/// conformance/kernel: the kernel's behaviour written down. Synack must pass every one on its virtual
/// clock (here, anywhere); <see cref="KernelTargetTests"/> holds the kernel to the same scripts, so a
/// script cannot drift from what Linux does.
/// </summary>
public class KernelFoundScriptTests
{
    public static TheoryData<string> Scripts() => Requirements.ScriptsIn(Locations.KernelFoundScripts());

    [Theory]
    [MemberData(nameof(Scripts))]
    public void Synack_does_what_the_kernel_does(string name) => Requirements.Passed(PacketdrillRunner.RunFile(Path.Combine(Locations.KernelFoundScripts(), name)));

    [Fact]
    public void Each_script_says_what_found_it_and_runs_in_the_profile_of_this_kernel()
    {
        foreach (var f in Directory.GetFiles(Locations.KernelFoundScripts(), "*.pkt"))
        {
            var text = File.ReadAllText(f);
            Assert.True(text.StartsWith("// Found by synack diff", StringComparison.Ordinal) || text.StartsWith("// Written against the kernel", StringComparison.Ordinal),
                $"{Path.GetFileName(f)} does not say what found it");
            Assert.Contains("--profile=linux-6.18", text, StringComparison.Ordinal);
        }
    }
}
