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
                var readme = zip.Entries.Single(e => e.FullName == "README.md");
                using (var reader = new StreamReader(readme.Open()))
                    Assert.Equal(File.ReadAllText(Path.Combine(root, "src/Synack.Cli/README.md")), reader.ReadToEnd()); // the tool's own README, not the repository's
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

    /// <summary>
    /// The README's "From packages" quick start, done as a new user does it: the packages packed to a
    /// folder, a new xunit project outside the repository that references only them (and xunit), the
    /// README's test file as it stands, <c>dotnet test</c>. A package cache of its own, so nothing an
    /// earlier build left in ~/.nuget stands in for the packages just packed.
    /// </summary>
    [Fact]
    public void The_quick_start_passes_in_a_new_project_that_has_only_the_packages()
    {
        var root = Repository.Root;
        var work = Path.Combine(Path.GetTempPath(), $"synack-quickstart-{Guid.NewGuid():N}");
        try
        {
            var feed = Path.Combine(work, "feed");
            foreach (var library in new[] { "Synack.Wire", "Synack.Tcp", "Synack.Stack", "Synack.Simulation" })
                Run("dotnet", root, "pack", $"src/{library}/{library}.csproj", "-c", "Release", "-o", feed, "-v", "q", "--nologo");

            var project = Path.Combine(work, "EchoTests");
            Directory.CreateDirectory(project);
            File.WriteAllText(Path.Combine(project, "EchoTests.csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <TargetFramework>net10.0</TargetFramework>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <Nullable>enable</Nullable>
                    <IsPackable>false</IsPackable>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
                    <PackageReference Include="xunit" Version="2.9.3" />
                    <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
                    <PackageReference Include="Synack.Simulation" Version="{PackageVersion(root)}" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(project, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="synack-packed" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(project, "UnitTest1.cs"), QuickStartTest(File.ReadAllText(Path.Combine(root, "README.md"))));

            var environment = new Dictionary<string, string> { ["NUGET_PACKAGES"] = Path.Combine(work, "nuget-packages") };
            var (exit, stdout, stderr) = Repository.RunToEnd("dotnet", project, TimeSpan.FromMinutes(8), environment, "test", "--nologo");
            Assert.True(exit == 0, $"the quick start failed in a new project:\n{stdout}\n{stderr}");
            Assert.Matches(@"Passed!\s+-\s+Failed:\s+0, Passed:\s+1,", stdout);
            Assert.True(Directory.Exists(Path.Combine(work, "nuget-packages", "synack.simulation")), "the project did not take Synack.Simulation from the packed feed");
        }
        finally
        {
            if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        }
    }

    // The first C# block after the "From packages" heading: the file the README tells the reader to write.
    private static string QuickStartTest(string readme)
    {
        int section = readme.IndexOf("## From packages", StringComparison.Ordinal);
        Assert.True(section >= 0, "the README has no \"From packages\" section");
        int start = readme.IndexOf("```csharp\n", section, StringComparison.Ordinal) + "```csharp\n".Length;
        int end = readme.IndexOf("\n```", start, StringComparison.Ordinal);
        var code = readme[start..end];
        Assert.Contains("[Fact]", code);
        return code;
    }

    private static string PackageVersion(string root) =>
        System.Xml.Linq.XDocument.Load(Path.Combine(root, "Directory.Build.props")).Descendants("Version").Single().Value;

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
