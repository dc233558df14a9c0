using BenchmarkDotNet.Running;
using Synack.Bench;

if (args.Length > 0 && args[0] == "analyze-1m")
{
    AnalyzeMillion.Run(args.Length > 1 ? args[1] : Path.Combine(Path.GetTempPath(), "synack-1m.pcapng"));
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);

public partial class Program;
