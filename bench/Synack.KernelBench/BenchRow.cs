namespace Synack.KernelBench;

/// <summary>
/// One line of the table: what was measured, Synack's figure and the reference's (the kernel's in the
/// same run, or a bound such as Mathis's), and the target the data-path issue sets, if any.
/// </summary>
public sealed record BenchRow(string Group, string Name, string Unit, double? Synack, double? Reference, string ReferenceName, bool HigherIsBetter = true)
{
    /// <summary>Why a figure is missing or what to read it with (skipped without root, say).</summary>
    public string? Note { get; init; }
    /// <summary>The target as a ratio to the reference (≥ for higher-is-better), or as an absolute figure when there is no reference.</summary>
    public double? Target { get; init; }

    /// <summary>Every run behind <see cref="Synack"/> (its median), when it took more than one: the spread.</summary>
    public IReadOnlyList<double>? SynackRuns { get; init; }
    /// <summary>Every run behind <see cref="Reference"/>, as <see cref="SynackRuns"/>.</summary>
    public IReadOnlyList<double>? ReferenceRuns { get; init; }

    /// <summary>A row of medians: <paramref name="synack"/>'s and <paramref name="reference"/>'s runs kept for their spread.</summary>
    public static BenchRow Medians(string group, string name, string unit, IReadOnlyList<double> synack, IReadOnlyList<double>? reference, string referenceName, bool higherIsBetter = true) =>
        new(group, name, unit, Median(synack), reference is null ? null : Median(reference), referenceName, higherIsBetter)
        {
            SynackRuns = synack,
            ReferenceRuns = reference,
        };

    /// <summary>The middle run (of an odd count; the upper middle of an even one).</summary>
    public static double Median(IReadOnlyList<double> runs)
    {
        if (runs.Count == 0) throw new ArgumentException("no runs", nameof(runs));
        var sorted = runs.ToArray();
        Array.Sort(sorted);
        return sorted[sorted.Length / 2];
    }

    public double? Ratio => Synack is double s && Reference is double r && r > 0 ? s / r : null;

    public bool? MeetsTarget => Target is not double t ? null
        : Reference is null ? (Synack is double s ? (HigherIsBetter ? s >= t : s <= t) : null)
        : Ratio is double q ? (HigherIsBetter ? q >= t : q <= t) : null;
}
