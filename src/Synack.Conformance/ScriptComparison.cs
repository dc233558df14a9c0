using System.Globalization;
using System.Text.RegularExpressions;

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
public sealed partial record ScriptComparison(string Path, ScriptResult Kernel, ScriptResult Synack)
{
    /// <summary>Both ran (neither was unsupported) and nothing differed, not even a window.</summary>
    public bool Same => Comparable && Difference is null && WindowAccounting is null;

    /// <summary>
    /// Both ran and nothing differed but receive windows within <see cref="WindowAccountingTolerance"/>:
    /// Linux charges its receive buffer by the memory of each skb (truesize, scaled by a ratio it
    /// measures), Synack by the bytes it holds, so their windows drift by a few units of the scale
    /// (docs/design.md says why that is deliberate).
    /// </summary>
    public bool SameButWindowAccounting => Comparable && Difference is null && WindowAccounting is not null;

    /// <summary>How far apart two non-zero windows may be, as a share of the larger, and still count as accounting.</summary>
    public const double WindowAccountingTolerance = 0.01;

    /// <summary>Both targets could run the script.</summary>
    public bool Comparable => Kernel.Result != ScriptOutcome.Unsupported && Synack.Result != ScriptOutcome.Unsupported;

    /// <summary>
    /// The first line where the two differ, past windows that differ only by accounting: the line,
    /// what the kernel did, what Synack did; null when nothing else differs.
    /// </summary>
    public (int Line, string Kernel, string Synack)? Difference => _compared.Difference;

    /// <summary>What to show of a comparison that was not the same: its <see cref="Difference"/>, else its <see cref="WindowAccounting"/>.</summary>
    public (int Line, string Kernel, string Synack)? FirstApart => Difference ?? WindowAccounting;

    /// <summary>The first packet whose window alone differed, within <see cref="WindowAccountingTolerance"/>; null when none did.</summary>
    public (int Line, string Kernel, string Synack)? WindowAccounting => _compared.Window;

    private readonly ((int, string, string)? Difference, (int, string, string)? Window) _compared = FirstDifference(Kernel, Synack);

    private static ((int, string, string)?, (int, string, string)?) FirstDifference(ScriptResult kernel, ScriptResult synack)
    {
        (int, string, string)? window = null;
        if (kernel.Result == ScriptOutcome.Unsupported || synack.Result == ScriptOutcome.Unsupported) return (null, null);
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
                return ((there.Line, a is null ? "(nothing: the run had ended)" : Show(a, i), b is null ? "(nothing: the run had ended)" : Show(b, i)), window);
            }
            if (a.Line != b.Line) return ((Math.Min(a.Line, b.Line), Show(a, i), Show(b, i)), window);
            if (a.Text != b.Text)
            {
                if (!OnlyWindowsApart(a.Text, b.Text)) return ((Math.Min(a.Line, b.Line), Show(a, i), Show(b, i)), window);
                window ??= (a.Line, Show(a, i), Show(b, i));
            }
            if (a.Seconds is double ta && b.Seconds is double tb && !SameTime(a, b, ta, tb, tolerance))
                return ((a.Line, Show(a, i), Show(b, i)), window);
        }
        return (null, window);
    }

    /// <summary>Two packets the same but for non-zero windows within the accounting tolerance.</summary>
    private static bool OnlyWindowsApart(string kernel, string synack)
    {
        var k = WindowField().Match(kernel);
        var s = WindowField().Match(synack);
        if (!k.Success || !s.Success || k.Index != s.Index) return false;
        if (kernel[..k.Index] != synack[..s.Index] || kernel[(k.Index + k.Length)..] != synack[(s.Index + s.Length)..]) return false;
        long wk = long.Parse(k.Groups[1].Value, CultureInfo.InvariantCulture), ws = long.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture);
        return wk > 0 && ws > 0 && Math.Abs(wk - ws) <= WindowAccountingTolerance * Math.Max(wk, ws);
    }

    [GeneratedRegex(@" win ([0-9]+)")]
    private static partial Regex WindowField();

    /// <summary>
    /// Within the tolerance; a timer's packet (one after a quiet on both) is held by how long each
    /// stack was quiet before it, the kernel's wheel allowed its granule late: chained timers (keep-alive
    /// probes, backed-off retransmissions) would otherwise add up the wheel's lateness.
    /// </summary>
    private static bool SameTime(ScriptObservation kernel, ScriptObservation synack, double tk, double ts, double tolerance)
    {
        if (kernel.Idle is TimeSpan ki && synack.Idle is TimeSpan si && TimerWheelSlack(si) > 0)
        {
            double d = ki.TotalSeconds - si.TotalSeconds;
            return d >= -tolerance && d <= tolerance + TimerWheelSlack(si);
        }
        return ts - tk <= tolerance && tk - ts <= tolerance + TimerWheelSlack(synack.Idle);
    }

    /// <summary>
    /// How late Linux's timer wheel may fire a timer of at least <paramref name="idle"/>: a timer 63
    /// jiffies or more ahead goes in a level whose slots are 8, 64, 512 jiffies wide, and it fires at
    /// the end of its slot (kernel/time/timer.c). Nothing for a packet that was not after a quiet.
    /// </summary>
    internal static double TimerWheelSlack(TimeSpan? idle)
    {
        if (idle is not TimeSpan quiet) return 0;
        double jiffy = global::Synack.Conformance.Kernel.KernelTarget.Jiffy.TotalSeconds;
        double jiffies = quiet.TotalSeconds / jiffy;
        int granule = jiffies < 63 ? 0 : jiffies < 504 ? 8 : jiffies < 4032 ? 64 : 512;
        return granule * jiffy;
    }

    // A recorded run's packets belong to no line (line 0): they are compared in the order sent.
    private static string Show(ScriptObservation o, int index) =>
        (o.Line == 0 ? $"packet {index + 1}: " : $"line {o.Line}: ") + o.Text + (o.Seconds is double t ? $" at {t.ToString("0.000###", CultureInfo.InvariantCulture)} s" : "");
}
