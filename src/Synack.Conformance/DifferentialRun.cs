using System.Globalization;
using System.Text.RegularExpressions;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// Scenarios nobody wrote: each seed makes a connection-management scenario (<see cref="Generate"/>),
/// which runs on this machine's Linux kernel and on Synack (the <c>linux-6.18</c> profile), each
/// recording what it sent and returned; the two records are compared as <c>--target both</c> compares
/// a script's. Divergences are grouped into classes by what differed.
/// </summary>
public static partial class DifferentialRun
{
    /// <summary>The scenario seed <paramref name="seed"/> makes (the same in every process).</summary>
    public static GeneratedScenario Generate(int seed) => ScenarioGenerator.Generate(seed);

    /// <summary>
    /// Runs <paramref name="scenario"/> on the kernel and on Synack (on the kernel's ISN) and compares them; the captures,
    /// when given, get each side's packets. Throws <see cref="InvalidOperationException"/> when the
    /// kernel cannot be tested here (see <see cref="PacketdrillRunner.WhyNotKernel"/>).
    /// </summary>
    public static ScriptComparison Compare(GeneratedScenario scenario, PcapNgWriter? kernelCapture = null, PcapNgWriter? synackCapture = null)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        string name = $"seed-{scenario.Seed}.pkt";
        var script = PacketdrillParser.Parse(scenario.Text, name);
        var kernel = PacketdrillRunner.RecordOnKernel(script, name, kernelCapture);
        var synack = PacketdrillRunner.RecordOnSynack(script, ConnectionOptions.Linux618, name, synackCapture, kernel.LocalIsns);
        return new ScriptComparison(name, kernel, synack);
    }

    /// <summary>
    /// Runs the scenarios of seeds <paramref name="first"/> to <paramref name="first"/> + <paramref name="count"/> − 1
    /// one after another (the kernel runs in real time); <paramref name="progress"/> hears of each.
    /// </summary>
    public static DifferentialReport Run(int first, int count, Action<GeneratedScenario, ScriptComparison>? progress = null, CancellationToken cancel = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var results = new List<(GeneratedScenario, ScriptComparison)>(count);
        for (int i = 0; i < count; i++)
        {
            cancel.ThrowIfCancellationRequested();
            var scenario = Generate(first + i);
            var c = Compare(scenario);
            results.Add((scenario, c));
            progress?.Invoke(scenario, c);
        }
        return new DifferentialReport(results);
    }

    /// <summary>
    /// What kind of difference this is, without the numbers that vary from seed to seed: which fields
    /// of a packet differ, which side sent a packet the other did not, which call returned differently.
    /// </summary>
    public static string ClassOf(ScriptComparison comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        if (!comparison.Comparable) return "not comparable: " + (comparison.Kernel.Result == ScriptOutcome.Unsupported ? "kernel: " + comparison.Kernel.Reason : "synack: " + comparison.Synack.Reason);
        if (comparison.Difference is not { } d) return comparison.WindowAccounting is null ? "same" : WindowAccountingClass;
        var k = Parse(d.Kernel);
        var s = Parse(d.Synack);
        if (k.Packet && s.Packet)
        {
            var kt = k.Text.Split(' ');
            var st = s.Text.Split(' ');
            if (kt[1] != st[1]) return $"packet flags: kernel > {kt[1]}, synack > {st[1]}";
            var differ = new List<string>();
            if (Field(k.Text, SeqField()) != Field(s.Text, SeqField())) differ.Add("seq/length");
            if (Field(k.Text, AckField()) != Field(s.Text, AckField())) differ.Add("ack");
            if (Field(k.Text, WinField()) != Field(s.Text, WinField())) differ.Add("window");
            if (Field(k.Text, OptionsField()) != Field(s.Text, OptionsField())) differ.Add("options");
            if (Field(k.Text, EcnField()) != Field(s.Text, EcnField())) differ.Add("ECN");
            if (differ.Count == 0 && k.Seconds is double a && s.Seconds is double b)
                return $"packet > {kt[1]} at another time (synack {(b > a ? "later" : "earlier")})";
            return $"packet > {kt[1]}: {string.Join(", ", differ)}";
        }
        if (k.Packet) return $"only the kernel sent > {k.Text.Split(' ')[1]}";
        if (s.Packet) return $"only synack sent > {s.Text.Split(' ')[1]}";
        // Counts vary from seed to seed; 0 (end of file, success) does not say the same as a count.
        static string Shape(string text) => Numbers().Replace(text, m => m.Value == "0" ? "0" : "#");
        return $"kernel: {Shape(k.Text)}; synack: {Shape(s.Text)}";
    }

    /// <summary>The class of scenarios the same but for receive windows a little apart (<see cref="ScriptComparison.SameButWindowAccounting"/>).</summary>
    public const string WindowAccountingClass = "window accounting only (windows within 1 %; deliberate, see docs/design.md)";

    private static (bool Packet, string Text, double? Seconds) Parse(string shown)
    {
        var m = Shown().Match(shown);
        if (!m.Success) return (false, shown, null);
        double? at = m.Groups["at"].Success ? double.Parse(m.Groups["at"].Value, CultureInfo.InvariantCulture) : null;
        var text = m.Groups["text"].Value;
        return (text.StartsWith("> ", StringComparison.Ordinal), text, at);
    }

    private static string Field(string text, Regex field) => field.Match(text) is { Success: true } m ? m.Value : "";

    [GeneratedRegex(@"^(?:packet|line) [0-9]+: (?<text>.*?)(?: at (?<at>[0-9.]+) s)?$")]
    private static partial Regex Shown();

    [GeneratedRegex(@" [0-9]+:[0-9]+\([0-9]+\)")]
    private static partial Regex SeqField();

    [GeneratedRegex(@" ack [0-9]+")]
    private static partial Regex AckField();

    [GeneratedRegex(@" win [0-9]+")]
    private static partial Regex WinField();

    [GeneratedRegex(@"<.*>")]
    private static partial Regex OptionsField();

    [GeneratedRegex(@"\[(?:ect0|ect1|ce)\]")]
    private static partial Regex EcnField();

    [GeneratedRegex(@"(?<![A-Za-z_])[0-9]+(?![A-Za-z_])")]
    private static partial Regex Numbers();
}
