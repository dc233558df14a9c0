namespace Synack.Conformance;

/// <summary>The first thing in a script that did not hold.</summary>
internal sealed class ScriptFailure(int line, string reason, string? expected = null, string? actual = null) : Exception(reason)
{
    public int Line { get; } = line;
    public string Reason { get; } = reason;
    public string? Expected { get; } = expected;
    public string? Actual { get; } = actual;
}
