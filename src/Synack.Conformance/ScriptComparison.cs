using System.Globalization;

namespace Synack.Conformance;

/// <summary>
/// One script run on the kernel and on Synack, held side by side: does Synack do what the kernel did?
/// Line by line, the same packets (flags, relative numbers, window, options in order, length; times
/// within the tolerance), the same system-call results and errno, the same <c>tcp_info</c> values
/// the script reads. A run that fails at a line observes that failure there, so where the kernel
/// itself departs from the script, Synack is held to the kernel, not to the script.
/// </summary>
/// <param name="Path">The script, relative to the suite.</param>
/// <param name="Kernel">The run on the kernel.</param>
/// <param name="Synack">The run on Synack.</param>
public sealed record ScriptComparison(string Path, ScriptResult Kernel, ScriptResult Synack)
{
    /// <summary>Both ran (neither was unsupported) and nothing differed.</summary>
    public bool Same => Comparable && Difference is null;

    /// <summary>Both targets could run the script.</summary>
    public bool Comparable => Kernel.Result != ScriptOutcome.Unsupported && Synack.Result != ScriptOutcome.Unsupported;

    /// <summary>The first line where the two differ: the line, what the kernel did, what Synack did; null when the same.</summary>
    public (int Line, string Kernel, string Synack)? Difference { get; } = FirstDifference(Kernel, Synack);

    private static (int, string, string)? FirstDifference(ScriptResult kernel, ScriptResult synack)
    {
        if (kernel.Result == ScriptOutcome.Unsupported || synack.Result == ScriptOutcome.Unsupported) return null;
        var tolerance = Math.Max(kernel.Tolerance.TotalSeconds, synack.Tolerance.TotalSeconds);
        // By line: a blocking call is observed when it returns, which may be after later lines on one
        // stack and before them on the other.
        var k = kernel.Observations.Select((o, i) => (o, i)).OrderBy(x => x.o.Line).ThenBy(x => x.i).Select(x => x.o).ToList();
        var s = synack.Observations.Select((o, i) => (o, i)).OrderBy(x => x.o.Line).ThenBy(x => x.i).Select(x => x.o).ToList();
        for (int i = 0; i < Math.Max(k.Count, s.Count); i++)
        {
            var a = i < k.Count ? k[i] : null;
            var b = i < s.Count ? s[i] : null;
            if (a is null || b is null)
            {
                var there = (a ?? b)!;
                return (there.Line, a is null ? "(nothing: the run had ended)" : Show(a), b is null ? "(nothing: the run had ended)" : Show(b));
            }
            if (a.Line != b.Line || a.Text != b.Text) return (Math.Min(a.Line, b.Line), Show(a), Show(b));
            if (a.Seconds is double ta && b.Seconds is double tb && Math.Abs(ta - tb) > tolerance)
                return (a.Line, Show(a), Show(b));
        }
        return null;
    }

    private static string Show(ScriptObservation o) =>
        $"line {o.Line}: {o.Text}" + (o.Seconds is double t ? $" at {t.ToString("0.000###", CultureInfo.InvariantCulture)} s" : "");
}
