using System.Text;

namespace Synack.Conformance;

/// <summary>A directory of scripts, each run on the kernel and on Synack and compared.</summary>
public sealed record ComparisonReport(string Directory, IReadOnlyList<ScriptComparison> Scripts)
{
    /// <summary>Scripts where Synack did what the kernel did.</summary>
    public int Same => Scripts.Count(s => s.Same);

    /// <summary>Scripts where the two differ in more than window accounting.</summary>
    public int Different => Scripts.Count(s => s.Comparable && !s.Same && !s.SameButWindowAccounting);

    /// <summary>Scripts the same but for receive windows a little apart (<see cref="ScriptComparison.SameButWindowAccounting"/>).</summary>
    public int WindowAccountingOnly => Scripts.Count(s => s.SameButWindowAccounting);

    /// <summary>Scripts one of the targets could not run.</summary>
    public int NotComparable => Scripts.Count(s => !s.Comparable);

    /// <summary>One line per script (the first difference side by side), then the summary.</summary>
    public string ToText()
    {
        var sb = new StringBuilder();
        foreach (var s in Scripts)
        {
            if (!s.Comparable)
            {
                var why = s.Kernel.Result == ScriptOutcome.Unsupported ? $"kernel: {s.Kernel.Reason}" : $"synack: {s.Synack.Reason}";
                sb.Append("unsupported ").Append(s.Path).Append(": ").Append(why).Append('\n');
                continue;
            }
            sb.Append(s.Same ? "same        " : s.SameButWindowAccounting ? "same (win)  " : "differs     ").Append(s.Path);
            sb.Append($"  (kernel {s.Kernel.ResultName}, synack {s.Synack.ResultName})");
            if (s.FirstApart is { } d)
            {
                sb.Append(':').Append(d.Line).Append('\n');
                sb.Append("           kernel: ").Append(d.Kernel).Append('\n');
                sb.Append("           synack: ").Append(d.Synack);
            }
            sb.Append('\n');
        }
        sb.Append($"{Scripts.Count} scripts: {Same} the same on Synack as on the kernel, {WindowAccountingOnly} the same but for window accounting, {Different} different, {NotComparable} not comparable\n");
        return sb.ToString();
    }
}
