using System.Diagnostics;
using System.IO.Compression;

namespace Synack.Cli.Tests;

/// <summary>
/// The packages as a user gets them: `dotnet pack` makes the tool, `dotnet tool install` takes it from a
/// folder feed, and the installed `synack demo` runs. The libraries' packages carry README, licence and docs.
/// </summary>
public class PackageTests
{
    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }

    private static string Run(string program, string workingDirectory, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} took more than 5 minutes");
        }
        Assert.True(p.ExitCode == 0, $"{program} {string.Join(' ', args)} exited {p.ExitCode}:\n{stdout.Result}\n{stderr.Result}");
        return stdout.Result;
    }

    [Fact]
    public void The_tool_packs_installs_from_a_folder_feed_and_runs_the_demo()
    {
        var root = RepositoryRoot();
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
}
