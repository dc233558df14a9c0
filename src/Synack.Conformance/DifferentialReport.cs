using System.Text;

namespace Synack.Conformance;

/// <summary>
/// Generated scenarios run on the kernel and on Synack: how many were the same, and the divergences
/// grouped into classes, each with its count and its smallest scenario.
/// </summary>
public sealed class DifferentialReport
{
    /// <param name="runs">Each scenario and how the two targets compared on it.</param>
    internal DifferentialReport(IReadOnlyList<(GeneratedScenario Scenario, ScriptComparison Comparison)> runs)
    {
        Runs = runs;
        Classes = runs.Where(r => !r.Comparison.Same)
            .GroupBy(r => DifferentialRun.ClassOf(r.Comparison))
            .Select(g => new DivergenceClass(g.Key, g.Count(), g.MinBy(r => (r.Scenario.EventCount, r.Scenario.Seed)).Scenario, g.Select(r => r.Scenario.Seed).ToList()))
            .OrderByDescending(c => c.Count).ThenBy(c => c.Name, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Each scenario and how the two targets compared on it, in seed order.</summary>
    public IReadOnlyList<(GeneratedScenario Scenario, ScriptComparison Comparison)> Runs { get; }

    /// <summary>The divergences by kind, the most frequent first.</summary>
    public IReadOnlyList<DivergenceClass> Classes { get; }

    /// <summary>Scenarios where Synack did what the kernel did.</summary>
    public int Same => Runs.Count(r => r.Comparison.Same);

    /// <summary>The share of scenarios that were the same, 0 to 1.</summary>
    public double SameFraction => Runs.Count == 0 ? 1 : (double)Same / Runs.Count;

    /// <summary>Scenarios the same but for receive windows within the accounting tolerance (<see cref="ScriptComparison.SameButWindowAccounting"/>).</summary>
    public int SameButWindowAccounting => Runs.Count(r => r.Comparison.SameButWindowAccounting);

    /// <summary>The share of scenarios the same, or the same but for window accounting, 0 to 1.</summary>
    public double SameOrWindowAccountingFraction => Runs.Count == 0 ? 1 : (double)(Same + SameButWindowAccounting) / Runs.Count;

    /// <summary>The summary, then one paragraph per class: its count, seeds, and smallest scenario's first difference.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        int apart = Runs.Count - Same - SameButWindowAccounting;
        sb.Append($"{Runs.Count} scenarios: {Same} the same on Synack as on the kernel ({SameFraction * 100:0.0} %), ")
          .Append($"{SameButWindowAccounting} the same but for window accounting (together {SameOrWindowAccountingFraction * 100:0.0} %), ")
          .Append($"{apart} different, in {Classes.Count(c => c.Name != DifferentialRun.WindowAccountingClass)} classes\n");
        foreach (var c in Classes)
        {
            sb.Append($"\n{c.Count,5}  {c.Name}\n");
            sb.Append($"       seeds: {string.Join(' ', c.Seeds.Take(12))}{(c.Seeds.Count > 12 ? " …" : "")}\n");
            var smallest = Runs.First(r => r.Scenario.Seed == c.Smallest.Seed).Comparison;
            sb.Append($"       smallest: --seed {c.Smallest.Seed} ({c.Smallest.Family})\n");
            if (smallest.FirstApart is { } d)
            {
                sb.Append($"         line {d.Line}\n         kernel: {d.Kernel}\n         synack: {d.Synack}\n");
            }
        }
        return sb.ToString();
    }
}

/// <summary>One kind of divergence between the kernel and Synack.</summary>
/// <param name="Name">What differed, without the numbers that vary (see <see cref="DifferentialRun.ClassOf"/>).</param>
/// <param name="Count">How many scenarios diverged so.</param>
/// <param name="Smallest">The scenario with the fewest lines that did: the minimal example.</param>
/// <param name="Seeds">Every seed that diverged so.</param>
public sealed record DivergenceClass(string Name, int Count, GeneratedScenario Smallest, IReadOnlyList<int> Seeds);
