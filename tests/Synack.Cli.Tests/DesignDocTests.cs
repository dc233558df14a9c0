using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace Synack.Cli.Tests;

/// <summary>
/// docs/design.md describes the code, so the code checks it: the project graph it draws is the one
/// the .csproj files make, no library sees another's internals but Tcp's granted to Stack, every
/// command the CLI has is named, and the sources point at nothing outside the repository.
/// </summary>
public sealed partial class DesignDocTests
{
    private static readonly string Root = Repository.Root;

    [Fact]
    public void The_project_graph_in_design_md_is_the_one_the_project_files_make()
    {
        var documented = DocumentedGraph();
        var built = BuiltGraph();
        Assert.Equal(built.Keys.Order(StringComparer.Ordinal), documented.Keys.Order(StringComparer.Ordinal));
        foreach (var (project, uses) in built)
        {
            Assert.True(uses.SetEquals(documented[project]),
                $"{project} uses {Join(uses)} in its .csproj, design.md says {Join(documented[project])}");
        }
    }

    [Fact]
    public void The_stack_names_no_simulator()
    {
        Assert.DoesNotContain("Synack.Simulation", BuiltGraph()["Synack.Stack"]);
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "src", "Synack.Stack"), "*.cs", SearchOption.AllDirectories))
        {
            if (IsBuildOutput(file)) continue;
            Assert.DoesNotMatch(@"\bSimulatedNetwork\b|\bMemoryLink\b|\bSynack\.Simulation\b", File.ReadAllText(file));
        }
    }

    [Fact]
    public void No_library_grants_its_internals_to_another_but_tcp_to_stack()
    {
        foreach (var csproj in LibraryProjects())
        {
            var name = Path.GetFileNameWithoutExtension(csproj);
            foreach (var grantee in XDocument.Load(csproj).Descendants("InternalsVisibleTo").Select(e => (string?)e.Attribute("Include") ?? ""))
            {
                bool test = grantee.EndsWith(".Tests", StringComparison.Ordinal);
                Assert.True(test || (name, grantee) == ("Synack.Tcp", "Synack.Stack"), $"{name} grants its internals to {grantee}");
            }
        }
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "src"), "*.cs", SearchOption.AllDirectories))
        {
            if (IsBuildOutput(file)) continue;
            Assert.DoesNotContain("InternalsVisibleTo", File.ReadAllText(file));
        }
    }

    [Fact]
    public void Every_command_of_the_cli_is_named_in_the_layers()
    {
        var layers = File.ReadAllText(Path.Combine(Root, "docs", "design.md"));
        var cliLine = layers[layers.IndexOf(" Synack.Cli ", StringComparison.Ordinal)..];
        cliLine = cliLine[..cliLine.IndexOf(" Synack.AspNetCore", StringComparison.Ordinal)];
        var commands = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, "src", "Synack.Cli"), "*.cs", SearchOption.AllDirectories))
        {
            if (IsBuildOutput(file)) continue;
            foreach (Match m in CommandName().Matches(File.ReadAllText(file))) commands.Add(m.Groups[1].Value);
        }
        Assert.NotEmpty(commands);
        foreach (var command in commands) Assert.Matches($@"\b{Regex.Escape(command)}\b", cliLine);
    }

    [Fact]
    public void The_sources_point_at_nothing_outside_the_repository()
    {
        foreach (var dir in new[] { "src", "bench", "fuzz", "samples" })
        {
            foreach (var file in Directory.EnumerateFiles(Path.Combine(Root, dir), "*.cs", SearchOption.AllDirectories))
            {
                if (IsBuildOutput(file)) continue;
                Assert.False(File.ReadAllText(file).Contains("../shared", StringComparison.Ordinal), $"{file} points at ../shared");
            }
        }
    }

    private static Dictionary<string, HashSet<string>> DocumentedGraph()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docs", "design.md"));
        int start = text.IndexOf("<!-- project-graph -->", StringComparison.Ordinal);
        int end = text.IndexOf("<!-- /project-graph -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, "design.md has no <!-- project-graph --> table");
        var graph = new Dictionary<string, HashSet<string>>();
        foreach (var line in text[start..end].Split('\n'))
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 4 || !cells[1].StartsWith("Synack.", StringComparison.Ordinal)) continue;
            graph[cells[1]] = cells[2].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).ToHashSet();
        }
        return graph;
    }

    private static Dictionary<string, HashSet<string>> BuiltGraph() =>
        LibraryProjects().ToDictionary(
            p => Path.GetFileNameWithoutExtension(p),
            p => XDocument.Load(p).Descendants("ProjectReference")
                .Select(e => Path.GetFileNameWithoutExtension(((string?)e.Attribute("Include") ?? "").Replace('\\', '/')))
                .ToHashSet());

    /// <summary>The projects that ship (src/) and the benchmarks (bench/); tests, samples and fuzzing are left out.</summary>
    private static IEnumerable<string> LibraryProjects() =>
        new[] { "src", "bench" }.SelectMany(top => Directory.EnumerateDirectories(Path.Combine(Root, top)))
            .Select(d => Path.Combine(d, Path.GetFileName(d) + ".csproj"))
            .Where(File.Exists);

    private static bool IsBuildOutput(string path) =>
        path.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
        || path.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal);

    private static string Join(IEnumerable<string> names) => names.Any() ? string.Join(", ", names.Order(StringComparer.Ordinal)) : "nothing";

    [GeneratedRegex(@"new Command\(""([a-z-]+)""")]
    private static partial Regex CommandName();
}
