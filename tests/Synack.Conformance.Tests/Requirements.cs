namespace Synack.Conformance.Tests;

/// <summary>What a test needs from the machine, and the scripts a test runs.</summary>
internal static class Requirements
{
    /// <summary>The kernel target (root, /dev/net/tun): with CI=true its absence fails the test, elsewhere it skips saying why.</summary>
    public static void Kernel()
    {
        if (PacketdrillRunner.WhyNotKernel() is not { } why) return;
        if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException($"the kernel target cannot run here: {why}");
        Skip.If(true, $"the kernel target {why}; with CI=true this fails instead");
    }

    /// <summary>The .pkt files directly in <paramref name="directory"/>, by name, as theory data.</summary>
    public static TheoryData<string> ScriptsIn(string directory)
    {
        var data = new TheoryData<string>();
        foreach (var f in Directory.GetFiles(directory, "*.pkt").Order(StringComparer.Ordinal)) data.Add(Path.GetFileName(f));
        return data;
    }

    /// <summary>Fails with the line, both packets and the transcript unless the script passed.</summary>
    public static void Passed(ScriptResult result) =>
        Assert.True(result.Result == ScriptOutcome.Pass,
            $"{result.ResultName} at line {result.Line}: {result.Reason}\nexpected {result.Expected}\nactual   {result.Actual}\n{string.Join("\n", result.Transcript)}");
}
