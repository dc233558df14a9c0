using System.Diagnostics;

namespace Synack.Cli.Tests;

/// <summary>The repository the tests run from, and programs run from it as a user would run them.</summary>
internal static class Repository
{
    /// <summary>The folder that holds Synack.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Runs <paramref name="program"/> to its end (at most <paramref name="limit"/>), asserts it exited 0, and returns what it printed.</summary>
    public static string Run(string program, string workingDirectory, TimeSpan limit, params string[] args)
    {
        var (exit, stdout, stderr) = RunToEnd(program, workingDirectory, limit, args);
        Assert.True(exit == 0, $"{program} {string.Join(' ', args)} exited {exit}:\n{stdout}\n{stderr}");
        return stdout;
    }

    /// <summary>Runs <paramref name="program"/> to its end (at most <paramref name="limit"/>): its exit code and what it printed.</summary>
    public static (int Exit, string Out, string Err) RunToEnd(string program, string workingDirectory, TimeSpan limit, params string[] args) =>
        RunToEnd(program, workingDirectory, limit, new Dictionary<string, string>(), args);

    /// <summary>As <see cref="RunToEnd(string, string, TimeSpan, string[])"/>, with <paramref name="environment"/> added to the process's environment.</summary>
    public static (int Exit, string Out, string Err) RunToEnd(string program, string workingDirectory, TimeSpan limit, IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = workingDirectory };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (name, value) in environment) psi.Environment[name] = value;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(limit))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} took more than {limit}");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }
}
