namespace Synack.Conformance;

public enum ScriptOutcome
{
    Pass,
    Fail,
    Unsupported,
}

/// <summary>
/// How one script went: for a failure, the first line that did not hold, what the script expected
/// there and what the stack did; for an unsupported script, what it needs. Notes list settings the
/// stack mapped loosely or ignored.
/// </summary>
public sealed record ScriptResult(string Path, ScriptOutcome Result, int? Line = null, string? Expected = null, string? Actual = null, string? Reason = null)
{
    public IReadOnlyList<string> Notes { get; init; } = [];
    /// <summary>Every event and every packet the stack sent, in order, with virtual times.</summary>
    public IReadOnlyList<string> Transcript { get; init; } = [];

    public string ResultName => Result switch
    {
        ScriptOutcome.Pass => "pass",
        ScriptOutcome.Fail => "fail",
        _ => "unsupported",
    };
}

/// <summary>The first thing in a script that did not hold.</summary>
internal sealed class ScriptFailure(int line, string reason, string? expected = null, string? actual = null) : Exception(reason)
{
    public int Line { get; } = line;
    public string Reason { get; } = reason;
    public string? Expected { get; } = expected;
    public string? Actual { get; } = actual;
}
