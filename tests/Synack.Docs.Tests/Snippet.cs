using System.Text.RegularExpressions;

namespace Synack.Docs.Tests;

/// <summary>
/// A C# block of a Markdown file, with what the comment line before it asks of the test:
/// <c>&lt;!-- doc-test: runs --&gt;</c> (compile and run it), <c>&lt;!-- doc-test: runs, prints "X" --&gt;</c>
/// (and its output holds X), <c>&lt;!-- doc-test: compiles --&gt;</c> (the default: compile only, for code
/// that serves forever or needs root). Every block compiles, whatever it says.
/// </summary>
public sealed partial record Snippet(string File, int Line, string Code, bool Runs, IReadOnlyList<string> Prints)
{
    [GeneratedRegex("""^<!--\s*doc-test:\s*(?<what>runs|compiles)(?<prints>(\s*,\s*prints\s+"[^"]*")*)\s*-->$""")]
    private static partial Regex Marker();

    [GeneratedRegex("""prints\s+"(?<text>[^"]*)" """, RegexOptions.IgnorePatternWhitespace)]
    private static partial Regex PrintsClause();

    /// <summary>Every ```csharp block of <paramref name="markdown"/>, numbered by the line its code starts on.</summary>
    public static IEnumerable<Snippet> In(string file, string markdown)
    {
        var lines = markdown.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != "```csharp") continue;
            int start = i + 1, end = start;
            while (end < lines.Length && lines[end].Trim() != "```") end++;
            if (end == lines.Length) throw new InvalidOperationException($"{file}:{i + 1}: a ```csharp block that never closes");
            var marker = i > 0 ? Marker().Match(lines[i - 1].Trim()) : Match.Empty;
            var prints = marker.Success
                ? PrintsClause().Matches(marker.Groups["prints"].Value).Select(m => m.Groups["text"].Value).ToArray()
                : [];
            yield return new Snippet(file, start + 1, string.Join('\n', lines[start..end]),
                marker.Success && marker.Groups["what"].Value == "runs", prints);
            i = end;
        }
    }

    /// <summary>The top-level statements' form of the block, or a class library's when it declares only types (a test class).</summary>
    public bool IsProgram => !TypesOnly().IsMatch(Code);

    // A block whose first line after its usings declares a type holds no statements: a library (an xunit test).
    [GeneratedRegex(@"\A(\s*(using\s+[\w.=\s]+;|//[^\n]*)\s*)*\s*(\[[^\]]+\]\s*)*(public\s+|internal\s+)?(sealed\s+|static\s+)?(class|record|struct|interface)\s")]
    private static partial Regex TypesOnly();

    /// <summary>Uses ASP.NET Core: compiled with the web SDK's implicit usings, as a web project would be.</summary>
    public bool IsWeb => Code.Contains("WebApplication", StringComparison.Ordinal);

    public override string ToString() => $"{File}:{Line}";
}
