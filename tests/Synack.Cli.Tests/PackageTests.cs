using System.IO.Compression;

namespace Synack.Cli.Tests;

/// <summary>
/// The packages as a user gets them: `dotnet pack` makes the tool, `dotnet tool install` takes it from a
/// folder feed, and the installed `synack demo` runs. The libraries' packages carry README, licence and docs.
/// </summary>
public class PackageTests
{
    private static string Run(string program, string workingDirectory, params string[] args) =>
        Repository.Run(program, workingDirectory, TimeSpan.FromMinutes(5), args);

    [Fact]
    public void The_tool_packs_installs_from_a_folder_feed_and_runs_the_demo()
    {
        var root = Repository.Root;
        var work = Path.Combine(Path.GetTempPath(), $"synack-pack-{Guid.NewGuid():N}");
        try
        {
            var feed = Path.Combine(work, "feed");
            Run("dotnet", root, "pack", "src/Synack.Cli/Synack.Cli.csproj", "-c", "Release", "-o", feed, "-v", "q", "--nologo");
            Run("dotnet", root, "pack", "src/Synack.Stack/Synack.Stack.csproj", "-c", "Release", "-o", feed, "-v", "q", "--nologo");
            var tool = Directory.GetFiles(feed, "Synack.Tool.*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
            using (var zip = ZipFile.OpenRead(tool))
            {
                Assert.Contains(zip.Entries, e => e.FullName == "README.md");
                Assert.Contains(zip.Entries, e => e.FullName == "LICENSE");
                Assert.Contains(zip.Entries, e => e.FullName.EndsWith("DotnetToolSettings.xml", StringComparison.Ordinal));
            }
            var library = Directory.GetFiles(feed, "Synack.Stack.*.nupkg").Single(f => !f.EndsWith(".snupkg", StringComparison.Ordinal));
            using (var zip = ZipFile.OpenRead(library))
            {
                Assert.Contains(zip.Entries, e => e.FullName == "lib/net10.0/Synack.Stack.xml"); // XML docs for IntelliSense
            }

            var toolPath = Path.Combine(work, "tools");
            Run("dotnet", work, "tool", "install", "Synack.Tool", "--tool-path", toolPath, "--add-source", feed, "--version", "0.10.0");
            var output = Run(Path.Combine(toolPath, "synack"), work, "demo", "--scenario", "combined-fin");
            Assert.Contains("client states: CLOSED -> SYN-SENT -> ESTABLISHED -> FIN-WAIT-1 -> TIME-WAIT -> CLOSED", output);
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    [Fact]
    public void Every_package_says_what_it_is_for_in_a_description_and_tags_of_its_own()
    {
        var descriptions = new HashSet<string>();
        foreach (var dir in Directory.EnumerateDirectories(Path.Combine(Repository.Root, "src")))
        {
            var csproj = Path.Combine(dir, Path.GetFileName(dir) + ".csproj");
            if (!File.Exists(csproj)) continue;
            var doc = System.Xml.Linq.XDocument.Load(csproj);
            var description = doc.Descendants("Description").SingleOrDefault()?.Value;
            var tags = doc.Descendants("PackageTags").SingleOrDefault()?.Value;
            Assert.False(string.IsNullOrWhiteSpace(description), $"{Path.GetFileName(csproj)} has no Description of its own");
            Assert.False(string.IsNullOrWhiteSpace(tags), $"{Path.GetFileName(csproj)} has no PackageTags of its own");
            Assert.True(descriptions.Add(description!), $"{Path.GetFileName(csproj)} repeats another package's description");
        }
        Assert.True(descriptions.Count >= 10);
    }
}
