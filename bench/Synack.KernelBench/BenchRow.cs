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

    public double? Ratio => Synack is double s && Reference is double r && r > 0 ? s / r : null;

    public bool? MeetsTarget => Target is not double t ? null
        : Reference is null ? (Synack is double s ? (HigherIsBetter ? s >= t : s <= t) : null)
        : Ratio is double q ? (HigherIsBetter ? q >= t : q <= t) : null;
}
