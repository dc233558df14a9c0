using System.Text;
using System.Text.Json;

namespace Synack.Conformance;

/// <summary>Every <c>.pkt</c> under a directory, run in path order, with a summary.</summary>
public sealed record ConformanceReport(string Directory, IReadOnlyList<ScriptResult> Scripts)
{
    /// <summary>Scripts that passed.</summary>
    public int Passed => Scripts.Count(s => s.Result == ScriptOutcome.Pass);
    /// <summary>Scripts that failed.</summary>
    public int Failed => Scripts.Count(s => s.Result == ScriptOutcome.Fail);
    /// <summary>Scripts that need what the runner does not have.</summary>
    public int Unsupported => Scripts.Count(s => s.Result == ScriptOutcome.Unsupported);

    /// <summary>One line per script, then the summary.</summary>
    public string ToText(bool verbose = false)
    {
        var sb = new StringBuilder();
        foreach (var s in Scripts)
        {
            sb.Append(s.ResultName.PadRight(12)).Append(s.Path);
            switch (s.Result)
            {
                case ScriptOutcome.Fail:
                    sb.Append(':').Append(s.Line?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?").Append(": ").Append(s.Reason);
                    if (s.Expected is not null) sb.Append("\n           expected: ").Append(s.Expected);
                    if (s.Actual is not null) sb.Append("\n           actual:   ").Append(s.Actual);
                    break;
                case ScriptOutcome.Unsupported:
                    sb.Append(": ").Append(s.Reason);
                    break;
            }
            sb.Append('\n');
            if (verbose)
            {
                foreach (var n in s.Notes) sb.Append("            note: ").Append(n).Append('\n');
                if (s.Result == ScriptOutcome.Fail)
                {
                    foreach (var t in s.Transcript) sb.Append("            | ").Append(t).Append('\n');
                }
            }
        }
        var groups = ByDirectory();
        if (groups.Count > 1)
        {
            int width = groups.Max(g => g.Directory.Length);
            foreach (var g in groups)
            {
                sb.Append(g.Directory.PadRight(width + 2)).Append($"{g.Passed} passed, {g.Failed} failed, {g.Unsupported} unsupported\n");
            }
        }
        sb.Append($"{Scripts.Count} scripts: {Passed} passed, {Failed} failed, {Unsupported} unsupported\n");
        return sb.ToString();
    }

    /// <summary>Counts per top-level directory (scripts directly in the root count under ".").</summary>
    public IReadOnlyList<(string Directory, int Passed, int Failed, int Unsupported)> ByDirectory() =>
        [.. Scripts.GroupBy(s => s.Path.Contains('/', StringComparison.Ordinal) ? s.Path[..s.Path.IndexOf('/', StringComparison.Ordinal)] : ".", StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (g.Key, g.Count(s => s.Result == ScriptOutcome.Pass), g.Count(s => s.Result == ScriptOutcome.Fail), g.Count(s => s.Result == ScriptOutcome.Unsupported)))];

    /// <summary><c>{"scripts": [...], "summary": {...}}</c>.</summary>
    public string ToJson()
    {
        var doc = new
        {
            scripts = Scripts.Select(s => new
            {
                path = s.Path,
                result = s.ResultName,
                line = s.Line,
                expected = s.Expected,
                actual = s.Actual,
                reason = s.Reason,
                notes = s.Notes,
            }),
            summary = new
            {
                total = Scripts.Count,
                passed = Passed,
                failed = Failed,
                unsupported = Unsupported,
                directories = ByDirectory().Select(g => new { directory = g.Directory, passed = g.Passed, failed = g.Failed, unsupported = g.Unsupported }),
            },
        };
        return JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }
}
