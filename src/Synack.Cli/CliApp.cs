using System.CommandLine;

namespace Synack.Cli;

/// <summary>The `synack` command line, runnable in-process so tests can read what a person would.</summary>
public static class CliApp
{
    /// <summary>Runs the <c>synack</c> command line with <paramref name="args"/>; returns the exit code.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        var root = new RootCommand("synack: a userspace TCP stack that shows its connection management");
        root.Subcommands.Add(DemoCommand.Create(output, error));
        root.Subcommands.Add(ServeCommand.Create(output, error));
        root.Subcommands.Add(GetCommand.Create(output, error));
        root.Subcommands.Add(AnalyzeCommand.Create(output, error));
        root.Subcommands.Add(ConformanceCommand.Create(output, error));
        root.Subcommands.Add(DiffCommand.Create(output, error));
        root.Subcommands.Add(BenchCommand.Create(output, error));
        root.Subcommands.Add(SimulateCommand.Create(output, error));
        root.Subcommands.Add(ExploreCommand.Create(output, error));
        root.Subcommands.Add(BenchCommand.CreateKernelBulk(output));
        root.Subcommands.Add(BenchCommand.CreateFirstRequest(output));
        root.Subcommands.Add(BenchCommand.CreateHoldClients(output));
        var config = new InvocationConfiguration { Output = output, Error = error };
        return root.Parse(args).Invoke(config);
    }
}
