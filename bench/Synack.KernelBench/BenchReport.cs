using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Synack.KernelBench;

/// <summary>The table at the end, as text for a terminal, Markdown for docs/benchmarks.md, or JSON.</summary>
public static class BenchReport
{
    public static string Text(IReadOnlyList<BenchRow> rows, bool markdown)
    {
        var sb = new StringBuilder();
        string[] head = ["what", "unit", "Synack", "reference", "ratio", "target"];
        var cells = new List<string[]>();
        foreach (var r in rows)
        {
            cells.Add([
                $"{r.Group}: {r.Name}",
                r.Unit,
                Format(r.Synack) + Spread(r.SynackRuns),
                (r.Reference is null ? "–" : $"{Format(r.Reference)}{Spread(r.ReferenceRuns)} ({r.ReferenceName})") + (r.Note is null ? "" : $" [{Notes(rows).IndexOf(r.Note) + 1}]"),
                r.Ratio is double q ? q.ToString("F2", CultureInfo.InvariantCulture) : "",
                Target(r),
            ]);
        }
        if (markdown)
        {
            sb.AppendLine("| " + string.Join(" | ", head) + " |");
            sb.AppendLine("|---|---|---:|---:|---:|---|");
            foreach (var c in cells) sb.AppendLine("| " + string.Join(" | ", c.Select(x => x.Replace("|", "\\|"))) + " |");
            AppendNotes(sb, rows);
            return sb.ToString();
        }
        var widths = head.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        sb.AppendLine(string.Join("  ", head.Select((h, i) => h.PadRight(widths[i]))).TrimEnd());
        foreach (var c in cells)
            sb.AppendLine(string.Join("  ", c.Select((x, i) => i is 2 or 4 ? x.PadLeft(widths[i]) : x.PadRight(widths[i]))).TrimEnd());
        AppendNotes(sb, rows);
        return sb.ToString();
    }

    private static List<string> Notes(IReadOnlyList<BenchRow> rows) => rows.Select(r => r.Note).OfType<string>().Distinct().ToList();

    private static void AppendNotes(StringBuilder sb, IReadOnlyList<BenchRow> rows)
    {
        var notes = Notes(rows);
        if (notes.Count > 0) sb.AppendLine();
        for (int i = 0; i < notes.Count; i++) sb.AppendLine($"[{i + 1}] {notes[i]}");
    }

    public static string Json(IReadOnlyList<BenchRow> rows, IReadOnlyDictionary<string, string> machine)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartObject("machine");
            foreach (var (k, v) in machine) json.WriteString(k, v);
            json.WriteEndObject();
            json.WriteStartArray("rows");
            foreach (var r in rows)
            {
                json.WriteStartObject();
                json.WriteString("group", r.Group);
                json.WriteString("name", r.Name);
                json.WriteString("unit", r.Unit);
                Number(json, "synack", r.Synack);
                Number(json, "reference", r.Reference);
                Runs(json, "synackRuns", r.SynackRuns);
                Runs(json, "referenceRuns", r.ReferenceRuns);
                json.WriteString("referenceName", r.ReferenceName);
                Number(json, "ratio", r.Ratio);
                json.WriteBoolean("higherIsBetter", r.HigherIsBetter);
                Number(json, "target", r.Target);
                if (r.MeetsTarget is bool met) json.WriteBoolean("meetsTarget", met);
                if (r.Note is not null) json.WriteString("note", r.Note);
                json.WriteEndObject();
            }
            json.WriteEndArray();
            json.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static void Runs(Utf8JsonWriter json, string name, IReadOnlyList<double>? runs)
    {
        if (runs is null) return;
        json.WriteStartArray(name);
        foreach (var v in runs) json.WriteNumberValue(Math.Round(v, 3));
        json.WriteEndArray();
    }

    private static void Number(Utf8JsonWriter json, string name, double? value)
    {
        if (value is double v && double.IsFinite(v)) json.WriteNumber(name, Math.Round(v, 3));
        else json.WriteNull(name);
    }

    private static string Target(BenchRow r)
    {
        if (r.Target is not double t) return "";
        string op = r.HigherIsBetter ? "≥" : "≤";
        string what = r.Reference is null ? $"{op} {Format(t)}" : $"{op} {t.ToString("0.##", CultureInfo.InvariantCulture)}×";
        return r.MeetsTarget switch { true => what + " met", false => what + " MISSED", _ => what };
    }

    /// <summary>" (min–max)" of a median's runs, when there were several.</summary>
    private static string Spread(IReadOnlyList<double>? runs) =>
        runs is { Count: > 1 } ? $" ({Format(runs.Min())}–{Format(runs.Max())})" : "";

    private static string Format(double? v) => v switch
    {
        null => "–",
        double x when Math.Abs(x) >= 100 => x.ToString("N0", CultureInfo.InvariantCulture),
        double x when Math.Abs(x) >= 10 => x.ToString("F1", CultureInfo.InvariantCulture),
        double x => x.ToString("F2", CultureInfo.InvariantCulture),
    };
}
