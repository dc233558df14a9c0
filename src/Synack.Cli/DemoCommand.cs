using System.CommandLine;
using Synack.Scenarios;
using Synack.Simulation;
using Synack.Stack;
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
        var engine = new Option<string>("--engine")
        {
            Description = "stack: two NetworkStacks, applications on the socket API; bare: two bare connections (no stack) on the same simulated link",
            DefaultValueFactory = _ => "stack",
        };
        engine.AcceptOnlyFromAmong("stack", "bare", "harness"); // "harness": the bare engine's old name
        var loss = new Option<double>("--loss") { Description = "probability that the link loses a packet, e.g. 0.05" };
        var latency = new Option<double>("--latency") { Description = "one-way latency of the link in milliseconds", DefaultValueFactory = _ => 10 };
        var seed = new Option<int>("--seed") { Description = "seed of the link's random faults: the same seed replays the same run", DefaultValueFactory = _ => 1 };
        var html = new Option<FileInfo?>("--html") { Description = "write the run as an HTML page with an SVG ladder" };
        var http = new Option<int?>("--http") { Description = "instead of a scenario: HttpClient sends this many requests, one at a time, to a minimal API on Kestrel, both over Synack on the simulated link (1..10000)" };
        var cmd = new Command("demo", "run a client and a server on a simulated link and print the ladder") { scenario, list, trace, all, capture, engine, loss, latency, seed, html, http };
        cmd.SetAction(parse =>
        {
            if (parse.GetValue(list))
            {
                foreach (var s in ScenarioCatalog.All) output.WriteLine($"{s.Name,-22} [{s.Note}] {s.Description}");
                return 0;
            }
            var captureFile = parse.GetValue(capture);
            var htmlFile = parse.GetValue(html);
            double p = parse.GetValue(loss);
            if (p is < 0 or >= 1)
            {
                error.WriteLine($"synack demo: --loss must be a probability in [0, 1), not {p}");
                return 2;
            }
            double ms = parse.GetValue(latency);
            if (ms is < 0 or > 60_000)
            {
                error.WriteLine($"synack demo: --latency must be between 0 and 60000 ms, not {ms}");
                return 2;
            }
            bool onStack = parse.GetValue(engine) == "stack";
            var link = new LinkConditions { Loss = p, Latency = TimeSpan.FromMilliseconds(ms), Seed = parse.GetValue(seed) };
            if (parse.GetValue(http) is int requests)
            {
                if (requests is < 1 or > 10_000)
                {
                    error.WriteLine($"synack demo: --http takes 1..10000 requests, not {requests}");
                    return 2;
                }
                HttpDemo.Run(requests, link, parse.GetValue(seed), output, captureFile);
                return 0;
            }
            Func<Scenario, ScenarioRun> runner = s => onStack ? s.RunOnStacks(link) : s.RunBare(link);
            if (parse.GetValue(all))
            {
                if (captureFile is not null || htmlFile is not null)
                {
                    error.WriteLine("synack demo: --capture and --html take one scenario; leave out --all");
                    return 2;
                }
                foreach (var s in ScenarioCatalog.All) Run(s, runner, parse.GetValue(trace), output, null, null);
                return 0;
            }
            string name = parse.GetValue(scenario)!;
            var chosen = ScenarioCatalog.Find(name);
            if (chosen is null)
            {
                error.WriteLine($"synack demo: no scenario named '{name}'. Known: {string.Join(", ", ScenarioCatalog.All.Select(s => s.Name))}");
                return 2;
            }
            try
            {
                Run(chosen, runner, parse.GetValue(trace), output, captureFile, htmlFile);
            }
            catch (IOException ex)
            {
                error.WriteLine($"synack demo: cannot write {captureFile?.FullName ?? htmlFile?.FullName}: {ex.Message}");
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

    private static void Run(Scenario s, Func<Scenario, ScenarioRun> runner, bool withTrace, TextWriter output, FileInfo? captureFile, FileInfo? htmlFile)
    {
        var sim = runner(s);
        if (captureFile is not null)
        {
            using var file = captureFile.Create();
            CaptureExport.Write(sim.Trace, file);
        }
        if (htmlFile is not null)
        {
            // The page is the analyzer's view of the run's own capture, with the true states as comments.
            using var ms = new MemoryStream();
            CaptureExport.Write(sim.Trace, ms);
            var conversations = Synack.Analysis.CaptureAnalyzer.Analyze(Synack.Wire.CaptureReader.Read(ms.ToArray()));
            File.WriteAllText(htmlFile.FullName, Synack.Analysis.LadderHtml.Render(conversations, $"synack demo: {s.Name}"));
        }
        output.WriteLine($"== {s.Name} [{s.Note}]: {s.Description}");
        output.WriteLine(sim is StackRun ? "   (two NetworkStacks on a MemoryLink, applications on the socket API)" : "   (two bare connections, no stack around them, on the same simulated link)");
        output.WriteLine();
        output.Write(LadderFormatter.Format(sim.Trace));
        output.WriteLine();
        output.WriteLine($"client states: {string.Join(" -> ", sim.Trace.StatesOf("client").Select(x => x.ToRfcName()))}");
        output.WriteLine($"server states: {string.Join(" -> ", sim.Trace.StatesOf("server").Select(x => x.ToRfcName()))}");
        output.WriteLine($"virtual time: {sim.Clock.TotalSeconds:F3} s");
        if (captureFile is not null) output.WriteLine($"capture: {captureFile.FullName}");
        if (htmlFile is not null) output.WriteLine($"html: {htmlFile.FullName}");
        if (withTrace)
        {
            output.WriteLine();
            output.WriteLine("trace:");
            output.WriteLine(sim.Trace.ToString());
        }
        output.WriteLine();
    }
}
