using System.CommandLine;
using Synack.Conformance;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>`synack diff`: generated connection-management scenarios on the Linux kernel and on Synack, compared.</summary>
internal static class DiffCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var seeds = new Option<int>("--seeds") { Description = "how many scenarios to run (seeds --first, --first+1, …)", DefaultValueFactory = _ => 100 };
        var first = new Option<int>("--first") { Description = "the first seed", DefaultValueFactory = _ => 1 };
        var seed = new Option<int?>("--seed") { Description = "run this one scenario: print its script, the first difference and both transcripts; with --out, write the script and both captures" };
        var outDir = new Option<DirectoryInfo?>("--out") { HelpName = "dir", Description = "with --seed: write seed-K.pkt, seed-K.kernel.pcapng and seed-K.synack.pcapng here" };
        var verbose = new Option<bool>("--verbose", "-v") { Description = "a line per scenario as it runs" };
        var cmd = new Command("diff", "generate connection-management scenarios from seeds, run each on this machine's Linux kernel (a namespace and TUN device of its own; root) and on Synack, and group where they differ; exit 0 only if every scenario was the same")
        {
            seeds, first, seed, outDir, verbose,
        };
        cmd.SetAction(parse =>
        {
            if (PacketdrillRunner.WhyNotKernel() is { } why)
            {
                error.WriteLine($"synack diff: the kernel target {why}");
                return 2;
            }
            try
            {
                return parse.GetValue(seed) is int one ? One(one, parse.GetValue(outDir)) : Many(parse.GetValue(first), parse.GetValue(seeds), parse.GetValue(verbose));
            }
            catch (Exception e) when (e is OperationCanceledException)
            {
                error.WriteLine("synack diff: interrupted; the namespaces of the run are deleted");
                return 130;
            }
        });
        return cmd;

        int One(int k, DirectoryInfo? dir)
        {
            var scenario = DifferentialRun.Generate(k);
            PcapNgWriter? kernelCapture = null, synackCapture = null;
            if (dir is not null)
            {
                dir.Create();
                File.WriteAllText(Path.Combine(dir.FullName, $"seed-{k}.pkt"), scenario.Text);
                kernelCapture = new PcapNgWriter(File.Create(Path.Combine(dir.FullName, $"seed-{k}.kernel.pcapng")));
                synackCapture = new PcapNgWriter(File.Create(Path.Combine(dir.FullName, $"seed-{k}.synack.pcapng")));
            }
            ScriptComparison c;
            using (kernelCapture)
            using (synackCapture)
            {
                c = DifferentialRun.Compare(scenario, kernelCapture, synackCapture);
            }
            output.Write(scenario.Text);
            output.WriteLine();
            output.WriteLine(c.Same ? "the same on Synack as on the kernel" : DifferentialRun.ClassOf(c));
            if (c.FirstApart is { } d) output.WriteLine($"  line {d.Line}\n  kernel: {d.Kernel}\n  synack: {d.Synack}");
            foreach (var (name, r) in new[] { ("kernel", c.Kernel), ("synack", c.Synack) })
            {
                output.WriteLine($"\n{name} ({r.ResultName}{(r.Reason is null ? "" : ": " + r.Reason)}):");
                foreach (var o in r.Observations) output.WriteLine($"  {(o.Line == 0 ? "sent" : "line " + o.Line),-9} {o.Text}{(o.Seconds is double t ? $"  at {t:0.000###} s" : "")}");
            }
            if (dir is not null) output.WriteLine($"\nwrote {Path.Combine(dir.FullName, $"seed-{k}.pkt")} and both captures");
            return c.Same ? 0 : 1;
        }

        int Many(int from, int count, bool each)
        {
            var report = DifferentialRun.Run(from, count, each ? (s, c) => output.WriteLine($"{s.Seed,6} {(c.Same ? "same   " : "differs")} {s.Family}{(c.Same ? "" : "  — " + DifferentialRun.ClassOf(c))}") : null);
            output.Write(report.ToText());
            return report.Same == report.Runs.Count ? 0 : 1;
        }
    }
}
