using Synack.Fuzz;

namespace Synack.Cli.Tests;

/// <summary>
/// Every input in the fuzzing corpus (fuzz/corpus/TARGET) and every crash the fuzzer has found
/// (fuzz/regressions/TARGET, copied there by scripts/fuzz.sh) goes through its target again: none
/// may throw. A crash fixed stays fixed.
/// </summary>
public sealed class FuzzRegressionTests
{
    public static TheoryData<string, string> Inputs()
    {
        var data = new TheoryData<string, string>();
        var fuzz = Path.Combine(RepositoryRoot(), "fuzz");
        foreach (var kind in new[] { "corpus", "regressions" })
            foreach (var target in FuzzTargets.Names)
            {
                var dir = Path.Combine(fuzz, kind, target);
                if (!Directory.Exists(dir)) continue;
                foreach (var file in Directory.GetFiles(dir).Order()) data.Add(target, Path.GetRelativePath(fuzz, file));
            }
        return data;
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void A_fuzz_input_goes_through_its_target_without_an_exception(string target, string file)
    {
        FuzzTargets.Run(target, File.ReadAllBytes(Path.Combine(RepositoryRoot(), "fuzz", file)));
    }

    [Fact]
    public void Every_target_has_a_seed_corpus()
    {
        foreach (var target in FuzzTargets.Names)
            Assert.NotEmpty(Directory.GetFiles(Path.Combine(RepositoryRoot(), "fuzz", "corpus", target)));
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }
}
