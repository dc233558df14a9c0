using System.Reflection;

namespace Synack.Docs.Tests;

/// <summary>
/// The C# in the README and in docs/ is code, not prose: every block compiles as a reader's own
/// project would compile it, and the blocks marked <c>doc-test: runs</c> run (a block of test classes
/// runs its [Fact]s) and print what their marker says.
/// </summary>
public sealed class DocSnippetTests
{
    private static readonly string Root = FindRoot();

    public static TheoryData<string> Snippets()
    {
        var data = new TheoryData<string>();
        foreach (var s in All()) data.Add(s.ToString());
        return data;
    }

    private static IEnumerable<Snippet> All()
    {
        var files = new[] { "README.md" }
            .Concat(Directory.GetFiles(Path.Combine(Root, "docs"), "*.md").Select(f => Path.GetRelativePath(Root, f)).Order(StringComparer.Ordinal))
            .Concat(PackageReadmes());
        foreach (var file in files)
        {
            foreach (var s in Snippet.In(file.Replace('\\', '/'), File.ReadAllText(Path.Combine(Root, file)))) yield return s;
        }
    }

    /// <summary>The README each package carries (src/NAME/README.md).</summary>
    private static IEnumerable<string> PackageReadmes() =>
        Directory.GetDirectories(Path.Combine(Root, "src")).Order(StringComparer.Ordinal)
            .Select(d => Path.Combine(d, "README.md")).Where(File.Exists).Select(f => Path.GetRelativePath(Root, f));

    [Fact]
    public void Every_package_has_a_readme_of_its_own_that_makes_sense_outside_the_repository()
    {
        var projects = Directory.GetDirectories(Path.Combine(Root, "src")).Where(d => File.Exists(Path.Combine(d, Path.GetFileName(d) + ".csproj"))).ToList();
        Assert.True(projects.Count >= 10);
        foreach (var project in projects)
        {
            var readme = Path.Combine(project, "README.md");
            Assert.True(File.Exists(readme), $"{Path.GetFileName(project)} has no README.md of its own to pack");
            var text = File.ReadAllText(readme);
            Assert.True(text.Length > 200, $"{readme} says too little");
            // A package page shows the README without the repository: links must be absolute, commands a user can run.
            foreach (System.Text.RegularExpressions.Match link in System.Text.RegularExpressions.Regex.Matches(text, @"\]\((?<to>[^)]+)\)"))
                Assert.True(link.Groups["to"].Value.StartsWith("https://", StringComparison.Ordinal), $"{readme}: the link {link.Value} is not absolute");
            Assert.DoesNotContain("dotnet run --project", text);
            Assert.DoesNotContain("../", text);
        }
    }

    [Fact]
    public void The_readme_has_code_and_some_of_it_runs()
    {
        var readme = All().Where(s => s.File == "README.md").ToList();
        Assert.True(readme.Count >= 5, $"only {readme.Count} C# blocks found in the README: is the extractor still reading it?");
        Assert.True(readme.Count(s => s.Runs) >= 3, "the README's first example, the simulated Kestrel run and the quick start should run");
    }

    [Theory]
    [MemberData(nameof(Snippets))]
    public async Task Each_snippet_compiles_and_the_runnable_ones_run(string where)
    {
        var snippet = All().Single(s => s.ToString() == where);
        var assembly = SnippetCompiler.Compile(snippet);
        if (!snippet.Runs) return;

        var output = await RunCapturingConsole(assembly, snippet);
        foreach (var expected in snippet.Prints)
        {
            Assert.True(output.Contains(expected, StringComparison.Ordinal), $"{snippet} should print \"{expected}\"; it printed:\n{output}");
        }
    }

    // Console is one per process: the runs take turns.
    private static readonly SemaphoreSlim ConsoleTurn = new(1, 1);

    private static async Task<string> RunCapturingConsole(Assembly assembly, Snippet snippet)
    {
        await ConsoleTurn.WaitAsync();
        var previous = Console.Out;
        var output = new StringWriter();
        Console.SetOut(output);
        try
        {
            var run = snippet.IsProgram ? RunProgram(assembly) : RunFacts(assembly);
            var finished = await Task.WhenAny(run, Task.Delay(TimeSpan.FromMinutes(2)));
            Assert.True(finished == run, $"{snippet} did not finish within two minutes of wall time; it printed:\n{output}");
            await run;
        }
        finally
        {
            Console.SetOut(previous);
            ConsoleTurn.Release();
        }
        return output.ToString();
    }

    private static Task RunProgram(Assembly assembly)
    {
        var entry = assembly.EntryPoint ?? throw new InvalidOperationException("a program without an entry point");
        return Task.Run(async () =>
        {
            var result = entry.Invoke(null, entry.GetParameters().Length == 0 ? [] : [Array.Empty<string>()]);
            if (result is Task t) await t;
        });
    }

    private static Task RunFacts(Assembly assembly) => Task.Run(async () =>
    {
        int facts = 0;
        foreach (var type in assembly.GetTypes())
        {
            foreach (var method in type.GetMethods().Where(m => m.GetCustomAttribute<FactAttribute>() is not null))
            {
                facts++;
                var instance = method.IsStatic ? null : Activator.CreateInstance(type);
                try
                {
                    if (method.Invoke(instance, []) is Task t) await t;
                }
                catch (TargetInvocationException e) when (e.InnerException is not null)
                {
                    throw new Xunit.Sdk.XunitException($"{type.Name}.{method.Name} failed: {e.InnerException}");
                }
                finally
                {
                    (instance as IDisposable)?.Dispose();
                }
            }
        }
        Assert.True(facts > 0, "a block of test classes marked to run holds no [Fact]");
    });

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }
}
