using System.CommandLine;
using System.Globalization;
using Synack.KernelBench;

namespace Synack.Cli;

/// <summary>
/// <c>synack bench</c>: Synack beside the Linux kernel in the same run (bench/Synack.KernelBench does
/// the measuring); this parses the options, runs the groups and writes the report.
/// </summary>
internal static class BenchCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var all = BenchRun.Groups;
        var only = new Option<string[]>("--only") { Description = $"run only these groups ({string.Join(", ", all)})", AllowMultipleArgumentsPerToken = true };
        var quick = new Option<bool>("--quick") { Description = "small sizes and one run each: a smoke test, not a measurement" };
        var bytes = new Option<long?>("--bytes") { Description = "bytes per bulk stream (default 512 MiB, quick 32 MiB)" };
        var idle = new Option<int?>("--idle") { Description = "idle connections to open for the memory figure (default 100,000; up to 5,080,000)" };
        var timeWait = new Option<int?>("--time-wait") { Description = "TIME-WAIT entries to make for the memory figure (default 100,000)" };
        var hold = new Option<int?>("--hold") { Description = "idle connections kernel clients hold open through TUN (default 1,000,000; Kestrel's row a fifth as many; up to 12,000,000)" };
        var json = new Option<string?>("--json") { Description = "also write the results as JSON to this file ('-': standard output, the table then goes to standard error)" };
        var markdown = new Option<FileInfo?>("--markdown") { Description = "also write the table as Markdown (for docs/benchmarks.md)" };
        var cmd = new Command("bench", "measure Synack beside the Linux kernel in one run: bulk streams, connection rate, latency, memory per connection and per TIME-WAIT entry, goodput under loss, and (as root) TUN downloads and Kestrel under wrk and h2load")
        {
            only, quick, bytes, idle, timeWait, hold, json, markdown,
        };
        cmd.SetAction(async (parse, ct) =>
        {
            var groups = parse.GetValue(only) is { Length: > 0 } chosen ? chosen.SelectMany(g => g.Split(',', StringSplitOptions.RemoveEmptyEntries)).ToArray() : [.. all];
            if (groups.FirstOrDefault(g => !all.Contains(g)) is { } unknown)
            {
                error.WriteLine($"synack bench: no group '{unknown}' (there are {string.Join(", ", all)})");
                return 2;
            }
            var plan = BenchPlan.For(parse.GetValue(quick), parse.GetValue(bytes), parse.GetValue(idle), parse.GetValue(timeWait), parse.GetValue(hold));
            if (plan.Bytes <= 0 || plan.Idle <= 0 || plan.TimeWait <= 0 || plan.Hold is <= 0 or > 12_000_000)
            {
                error.WriteLine("synack bench: --bytes, --idle, --time-wait and --hold take a positive count (--hold at most 12,000,000: 240 client addresses of 50,000 ports)");
                return 2;
            }
            string? jsonPath = parse.GetValue(json);
            var table = jsonPath == "-" ? error : output;
            var rows = new List<BenchRow>();
            int step = 0;
            void Progress(string what)
            {
                error.WriteLine($"[{step}/{groups.Length}] {what}");
                error.Flush();
            }
            foreach (var group in groups)
            {
                step++;
                ct.ThrowIfCancellationRequested();
                Progress(group + "…");
                try
                {
                    rows.AddRange(await BenchRun.GroupAsync(group, plan, Progress));
                }
                catch (Exception e) when (e is InvalidOperationException or System.Net.Sockets.SocketException or IOException or ArgumentOutOfRangeException)
                {
                    rows.Add(new BenchRow(group, "failed", "", null, null, "") { Note = e.Message });
                    error.WriteLine($"synack bench: {group} failed: {e.Message}");
                }
            }
            table.WriteLine();
            table.Write(BenchReport.Text(rows, markdown: false));
            if (parse.GetValue(markdown) is { } md) await File.WriteAllTextAsync(md.FullName, BenchReport.Text(rows, markdown: true), ct);
            if (jsonPath is not null)
            {
                var text = BenchReport.Json(rows, BenchRun.Machine());
                if (jsonPath == "-") output.Write(text);
                else await File.WriteAllTextAsync(jsonPath, text, ct);
            }
            return rows.Any(r => r.Name == "failed") ? 1 : 0;
        });
        return cmd;
    }

    /// <summary>One first request in this fresh process (simulated network or the kernel's loopback): the bench's first-request row runs it.</summary>
    public static Command CreateFirstRequest(TextWriter output)
    {
        var on = new Option<string>("--on") { Required = true };
        on.AcceptOnlyFromAmong("simulated", "loopback");
        var cmd = new Command("bench-first-request", "(used by synack bench) the first request of a process, in ms") { on };
        cmd.Hidden = true;
        cmd.SetAction(async parse =>
        {
            output.WriteLine((await FirstRequest.MeasureAsync(parse.GetValue(on) == "simulated")).ToString("F1", CultureInfo.InvariantCulture));
            return 0;
        });
        return cmd;
    }

    /// <summary>The kernel clients of the hold row, run by the bench inside its namespace.</summary>
    public static Command CreateHoldClients(TextWriter output)
    {
        var to = new Option<string>("--to") { Required = true };
        var from = new Option<string>("--from") { Required = true };
        var index = new Option<int>("--index") { Required = true };
        var count = new Option<int>("--count") { Required = true };
        var release = new Option<string>("--release") { Required = true };
        var cmd = new Command("bench-hold-clients", "(used by synack bench) kernel clients that open, hold and close connections") { to, from, index, count, release };
        cmd.Hidden = true;
        cmd.SetAction(async parse => await HoldClients.RunAsync(System.Net.IPEndPoint.Parse(parse.GetValue(to)!), System.Net.IPAddress.Parse(parse.GetValue(from)!),
            parse.GetValue(index), parse.GetValue(count), inFlight: 32, parse.GetValue(release)!, TimeSpan.FromMinutes(30), output));
        return cmd;
    }

    /// <summary>The kernel's half of a bulk row, run by the bench inside a namespace of its own.</summary>
    public static Command CreateKernelBulk(TextWriter output)
    {
        var bytes = new Option<long>("--bytes") { Required = true };
        var cmd = new Command("bench-kernel-bulk", "(used by synack bench) the kernel's bulk stream over loopback, in Gbit/s") { bytes };
        cmd.Hidden = true;
        cmd.SetAction(async parse =>
        {
            output.WriteLine((await BenchRun.KernelBulkGbpsAsync(parse.GetValue(bytes))).ToString(CultureInfo.InvariantCulture));
            return 0;
        });
        return cmd;
    }
}
