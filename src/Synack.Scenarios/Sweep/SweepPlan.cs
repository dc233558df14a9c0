using Synack.Simulation;
using Synack.Stack;

namespace Synack.Scenarios.Sweep;

/// <summary>
/// Everything a seed decides, drawn before the run from one <see cref="Random"/>: the link's faults
/// (loss, duplication, reordering, corruption, a change of latency, a partition) and the connections.
/// The same seed always gives the same plan, and the simulation the same run.
/// </summary>
public sealed record SweepPlan(int Seed, LinkConditions Link, TimeSpan? LatencyChangeAt, TimeSpan NewLatency, TimeSpan? PartitionAt, TimeSpan PartitionFor, IReadOnlyList<SweepConnection> Connections)
{
    /// <summary>The plan seed <paramref name="seed"/> decides: the same plan in every process.</summary>
    public static SweepPlan For(int seed)
    {
        var r = new Random(seed);
        double Chance(double most) => r.NextDouble() < 0.5 ? 0 : r.NextDouble() * most;
        var link = new LinkConditions
        {
            Latency = TimeSpan.FromMilliseconds(r.Next(1, 80)),
            Loss = Chance(0.08),
            Duplication = Chance(0.05),
            Reordering = Chance(0.05),
            ReorderDelay = TimeSpan.FromMilliseconds(r.Next(1, 40)),
            Corruption = Chance(0.02),
            RateBytesPerSecond = r.Next(3) == 0 ? r.Next(100_000, 10_000_000) : 0,
            Seed = seed,
        };
        TimeSpan? latencyAt = r.Next(4) == 0 ? TimeSpan.FromMilliseconds(r.Next(0, 5000)) : null;
        var newLatency = TimeSpan.FromMilliseconds(r.Next(1, 200));
        TimeSpan? partitionAt = r.Next(5) == 0 ? TimeSpan.FromMilliseconds(r.Next(0, 8000)) : null;
        var partitionFor = TimeSpan.FromMilliseconds(r.Next(100, 90_000));
        var kinds = Enum.GetValues<SweepWorkload>();
        var connections = new List<SweepConnection>();
        int n = r.Next(1, 7);
        for (int i = 0; i < n; i++)
        {
            var kind = kinds[r.Next(kinds.Length)];
            bool big = kind is SweepWorkload.Long or SweepWorkload.Abort || r.Next(4) == 0;
            connections.Add(new SweepConnection(i, kind, TimeSpan.FromMilliseconds(r.Next(0, 3000)),
                ClientBytes: big ? r.Next(1, 300_000) : r.Next(0, 3000),
                ServerBytes: big ? r.Next(1, 300_000) : r.Next(0, 6000),
                Pause: TimeSpan.FromMilliseconds(r.Next(0, kind == SweepWorkload.IdleKeepAlive ? 40_000 : 500)),
                ClientAborts: r.Next(2) == 0));
        }
        return new SweepPlan(seed, link, latencyAt, newLatency, partitionAt, partitionFor, connections);
    }

    /// <summary>The fault mix in a few words, for a report.</summary>
    public string Faults =>
        $"latency {Link.Latency.TotalMilliseconds:F0} ms, loss {Link.Loss:P1}, duplication {Link.Duplication:P1}, reordering {Link.Reordering:P1}, corruption {Link.Corruption:P1}" +
        (Link.RateBytesPerSecond > 0 ? $", {Link.RateBytesPerSecond * 8 / 1e6:F1} Mbit/s" : "") +
        (LatencyChangeAt is { } l ? $", latency → {NewLatency.TotalMilliseconds:F0} ms at {l.TotalSeconds:F1} s" : "") +
        (PartitionAt is { } p ? $", partition {p.TotalSeconds:F1}–{(p + PartitionFor).TotalSeconds:F1} s" : "");
}
