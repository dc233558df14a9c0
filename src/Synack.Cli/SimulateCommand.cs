using System.CommandLine;
using System.Diagnostics;
using Synack.Scenarios.Sweep;
using Synack.Tcp;

namespace Synack.Cli;

/// <summary>
/// `synack simulate`: many seeds of random workloads over faulty links on virtual time, each checked
/// against the invariants (<see cref="SweepRun"/>), in parallel across cores. A failing seed prints
/// the command that replays it and, replayed, writes its capture.
/// </summary>
internal static class SimulateCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var seeds = new Option<int>("--seeds") { Description = "how many seeds to run (from --from on)", DefaultValueFactory = _ => 1000 };
        var from = new Option<int>("--from") { Description = "the first seed", DefaultValueFactory = _ => 1 };
        var seed = new Option<int?>("--seed") { Description = "run this one seed and describe it (with --capture, write its packets)" };
        var capture = new Option<FileInfo?>("--capture") { Description = "with --seed: write both hosts' packets to this pcapng file" };
        var parallel = new Option<int>("--parallel") { Description = "seeds run at once (default: one per core)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var quiet = new Option<bool>("--quiet") { Description = "no progress line" };
        var planted = new Option<bool>("--planted-invariant") { Description = "also check an invariant that is wrong on purpose (a test of the harness's replay)", Hidden = true };
        var captures = new Option<DirectoryInfo>("--captures") { Description = "where a failing seed's capture is written (seed-N.pcapng)", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var cmd = new Command("simulate", "run random workloads over faulty simulated links, seed by seed, and check every run's invariants") { seeds, from, seed, capture, parallel, quiet, captures, planted };
        cmd.SetAction(parse =>
        {
            bool plant = parse.GetValue(planted);
            if (parse.GetValue(seed) is int one) return RunOne(one, parse.GetValue(capture), plant, output, error);
            int count = parse.GetValue(seeds), first = parse.GetValue(from), workers = parse.GetValue(parallel);
            if (count < 1 || workers < 1)
            {
                error.WriteLine($"synack simulate: --seeds and --parallel must be at least 1, not {count} and {workers}");
                return 2;
            }
            return Sweep(first, count, workers, parse.GetValue(quiet), parse.GetValue(captures)!, plant, output, error);
        });
        return cmd;
    }

    private static int RunOne(int seed, FileInfo? capture, bool planted, TextWriter output, TextWriter error)
    {
        var plan = SweepPlan.For(seed);
        output.WriteLine($"seed {seed}: {plan.Faults}");
        foreach (var c in plan.Connections)
            output.WriteLine($"  connection {c.Id}: {c.Workload} at {c.Start.TotalSeconds:F3} s, client {c.ClientBytes} B, server {c.ServerBytes} B, pause {c.Pause.TotalSeconds:F3} s{(c.Workload == SweepWorkload.Abort ? c.ClientAborts ? ", the client aborts" : ", the server aborts" : "")}");
        SweepResult result;
        if (capture is null) result = SweepRun.Run(seed, planted: planted);
        else
        {
            using var file = capture.Create();
            result = SweepRun.Run(seed, file, planted);
        }
        output.WriteLine($"{(result.Passed ? "passed" : "FAILED")}: {result.BytesDelivered:N0} bytes delivered, {result.ConnectionsFailed} of {result.Connections} connections ended with an error the application was told of, {result.VirtualTime.TotalSeconds:F1} s of virtual time");
        foreach (var v in result.Violations) error.WriteLine("  " + v);
        if (capture is not null) output.WriteLine($"capture: {capture.FullName}");
        return result.Passed ? 0 : 1;
    }

    private static int Sweep(int first, int count, int workers, bool quiet, DirectoryInfo captures, bool planted, TextWriter output, TextWriter error)
    {
        var clock = Stopwatch.StartNew();
        var failures = new System.Collections.Concurrent.ConcurrentBag<SweepResult>();
        long done = 0, connections = 0, failedConnections = 0, bytes = 0;
        var mix = new long[Enum.GetValues<SweepWorkload>().Length];
        long partitions = 0, lossy = 0, reordering = 0, duplicating = 0, corrupting = 0, crossedSyns = 0;
        var states = new long[Enum.GetValues<Synack.Tcp.TcpState>().Length];
        using var progress = quiet ? null : new Timer(_ => error.Write($"\r{Interlocked.Read(ref done):N0} of {count:N0} seeds, {failures.Count} failed, {clock.Elapsed:mm\\:ss}   "), null, 1000, 1000);
        Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = workers }, i =>
        {
            int s = first + i;
            var plan = SweepPlan.For(s);
            var r = SweepRun.Run(s, planted: planted);
            if (!r.Passed) failures.Add(r);
            for (int k = 0; k < r.StatesEntered.Count; k++) Interlocked.Add(ref states[k], r.StatesEntered[k]);
            Interlocked.Add(ref crossedSyns, r.SimultaneousOpens);
            Interlocked.Add(ref connections, r.Connections);
            Interlocked.Add(ref failedConnections, r.ConnectionsFailed);
            Interlocked.Add(ref bytes, r.BytesDelivered);
            foreach (var c in plan.Connections) Interlocked.Increment(ref mix[(int)c.Workload]);
            if (plan.PartitionAt is not null) Interlocked.Increment(ref partitions);
            if (plan.Link.Loss > 0) Interlocked.Increment(ref lossy);
            if (plan.Link.Reordering > 0) Interlocked.Increment(ref reordering);
            if (plan.Link.Duplication > 0) Interlocked.Increment(ref duplicating);
            if (plan.Link.Corruption > 0) Interlocked.Increment(ref corrupting);
            Interlocked.Increment(ref done);
        });
        progress?.Dispose();
        if (!quiet) error.WriteLine();
        output.WriteLine($"{count:N0} seeds ({first}..{first + count - 1}) in {clock.Elapsed.TotalSeconds:F1} s on {workers} threads: {count - failures.Count:N0} passed, {failures.Count} violated an invariant");
        output.WriteLine($"  {connections:N0} connections ({string.Join(", ", Enum.GetValues<SweepWorkload>().Select(w => $"{w} {mix[(int)w]:N0}"))}), {failedConnections:N0} ended with an error their application was told of, {bytes:N0} bytes delivered");
        output.WriteLine($"  states entered: {string.Join(", ", Enum.GetValues<Synack.Tcp.TcpState>().Where(t => t != Synack.Tcp.TcpState.Closed).Select(t => $"{t.ToRfcName()} {states[(int)t]:N0}"))}; SYNs crossed {crossedSyns:N0}");
        output.WriteLine($"  links: loss on {lossy:N0}, reordering on {reordering:N0}, duplication on {duplicating:N0}, corruption on {corrupting:N0}, a partition on {partitions:N0}");
        foreach (var f in failures.OrderBy(f => f.Seed).Take(20))
        {
            output.WriteLine($"seed {f.Seed}: {f.Violations[0]}");
            output.WriteLine($"  replay: {f.ReplayCommand}");
            // The same seed runs the same way: replayed once more with a tap, it leaves its packets behind.
            captures.Create();
            var file = new FileInfo(Path.Combine(captures.FullName, $"seed-{f.Seed}.pcapng"));
            using (var stream = file.Create()) SweepRun.Run(f.Seed, stream, planted);
            output.WriteLine($"  capture: {file.FullName}");
        }
        return failures.IsEmpty ? 0 : 1;
    }
}
