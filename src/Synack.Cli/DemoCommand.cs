using System.CommandLine;
using Synack.Simulation;
using Synack.Tcp;

namespace Synack.Cli;

internal static class DemoCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var scenario = new Option<string>("--scenario", "-s")
        {
            Description = "which scenario to run (see --list)",
            DefaultValueFactory = _ => "handshake-data-close",
        };
        var list = new Option<bool>("--list") { Description = "list the scenarios with a one-line description" };
        var trace = new Option<bool>("--trace") { Description = "also print the full event trace (segments, timers, state changes)" };
        var all = new Option<bool>("--all") { Description = "run every scenario in turn" };
        var capture = new Option<FileInfo?>("--capture") { Description = "write the run as pcapng (Wireshark, tshark), with state changes as packet comments" };
        var cmd = new Command("demo", "run a client and a server on a simulated link and print the ladder") { scenario, list, trace, all, capture };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(list))
            {
                foreach (var s in Scenarios.All) output.WriteLine($"{s.Name,-22} [{s.Seed}] {s.Description}");
                return 0;
            }
            var captureFile = parse.GetValue(capture);
            if (parse.GetValue(all))
            {
                if (captureFile is not null)
                {
                    error.WriteLine("synack demo: --capture takes one scenario; leave out --all");
                    return 2;
                }
                foreach (var s in Scenarios.All) Run(s, parse.GetValue(trace), output, null);
                return 0;
            }
            string name = parse.GetValue(scenario)!;
            var chosen = Scenarios.Find(name);
            if (chosen is null)
            {
                error.WriteLine($"synack demo: no scenario named '{name}'. Known: {string.Join(", ", Scenarios.All.Select(s => s.Name))}");
                return 2;
            }
            try
            {
                Run(chosen, parse.GetValue(trace), output, captureFile);
            }
            catch (IOException ex)
            {
                error.WriteLine($"synack demo: cannot write {captureFile}: {ex.Message}");
                return 1;
            }
            catch (UnauthorizedAccessException ex)
            {
                error.WriteLine($"synack demo: cannot write {captureFile}: {ex.Message}");
                return 1;
            }
            return 0;
        });
        return cmd;
    }

    private static void Run(Scenario s, bool withTrace, TextWriter output, FileInfo? captureFile)
    {
        var sim = s.Run();
        if (captureFile is not null)
        {
            using var file = captureFile.Create();
            CaptureExport.Write(sim.Trace, file);
        }
        output.WriteLine($"== {s.Name} [{s.Seed}]: {s.Description}");
        output.WriteLine();
        output.Write(LadderFormatter.Format(sim.Trace));
        output.WriteLine();
        output.WriteLine($"client states: {string.Join(" -> ", sim.Trace.StatesOf("client").Select(x => x.ToRfcName()))}");
        output.WriteLine($"server states: {string.Join(" -> ", sim.Trace.StatesOf("server").Select(x => x.ToRfcName()))}");
        output.WriteLine($"virtual time: {sim.Clock.TotalSeconds:F3} s");
        if (captureFile is not null) output.WriteLine($"capture: {captureFile.FullName}");
        if (withTrace)
        {
            output.WriteLine();
            output.WriteLine("trace:");
            output.WriteLine(sim.Trace.ToString());
        }
        output.WriteLine();
    }
}
