using System.Reflection;
using PublicApiGenerator;

namespace Synack.Docs.Tests;

/// <summary>
/// Each package's public surface, listed in <c>api/NAME.txt</c>: a change to it shows in review as a
/// change to that file, so it is made on purpose. To accept a change, run the tests with
/// <c>SYNACK_ACCEPT_API=1</c> and commit the files it rewrote.
/// </summary>
public sealed class PublicApiTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> Packages()
    {
        var data = new TheoryData<string>();
        foreach (var name in PackageNames()) data.Add(name);
        return data;
    }

    private static List<string> PackageNames()
    {
        var names = new List<string>();
        foreach (var dir in Directory.GetDirectories(Path.Combine(Root, "src")).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(dir);
            if (name == "Synack.Cli") continue; // the tool: a command line, not an API
            if (File.Exists(Path.Combine(dir, name + ".csproj"))) names.Add(name);
        }
        return names;
    }

    [Theory]
    [MemberData(nameof(Packages))]
    public void The_public_api_is_the_one_listed(string package)
    {
        var assembly = Assembly.Load(package);
        var actual = assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false }).ReplaceLineEndings("\n");
        var listing = Path.Combine(Root, "api", package + ".txt");
        if (Environment.GetEnvironmentVariable("SYNACK_ACCEPT_API") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(listing)!);
            File.WriteAllText(listing, actual);
            return;
        }
        Assert.True(File.Exists(listing), $"{package} has no API listing: run the tests with SYNACK_ACCEPT_API=1 and commit api/{package}.txt");
        var expected = File.ReadAllText(listing).ReplaceLineEndings("\n");
        if (expected == actual) return;
        Assert.Fail($"the public API of {package} is not the one in api/{package}.txt; if the change is meant, run the tests with SYNACK_ACCEPT_API=1 and commit the file.\n{FirstDifference(expected, actual)}");
    }

    [Fact]
    public void Every_package_is_listed_and_the_listings_name_only_packages()
    {
        var packages = PackageNames().ToHashSet();
        Assert.True(packages.Count >= 10, $"only {packages.Count} packages found under src/");
        foreach (var file in Directory.GetFiles(Path.Combine(Root, "api"), "*.txt"))
        {
            Assert.True(packages.Contains(Path.GetFileNameWithoutExtension(file)), $"{Path.GetFileName(file)} lists a package that is no longer in src/");
        }
    }

    private static string FirstDifference(string expected, string actual)
    {
        var e = expected.Split('\n');
        var a = actual.Split('\n');
        var removed = e.Except(a).Take(10).Select(l => "- " + l.Trim());
        var added = a.Except(e).Take(10).Select(l => "+ " + l.Trim());
        return string.Join('\n', removed.Concat(added));
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }
}
