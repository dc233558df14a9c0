namespace Synack.Conformance;

/// <summary>
/// How one script went: for a failure, the first line that did not hold, what the script expected
/// there and what the stack did; for an unsupported script, what it needs. Notes list settings the
/// stack mapped loosely or ignored.
/// </summary>
public sealed record ScriptResult(string Path, ScriptOutcome Result, int? Line = null, string? Expected = null, string? Actual = null, string? Reason = null)
{
    /// <summary>Settings the stack mapped loosely or ignored.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
    /// <summary>What the stack did at each line, for comparing two stacks on the same script (see <see cref="ScriptComparison"/>).</summary>
    public IReadOnlyList<ScriptObservation> Observations { get; init; } = [];
    /// <summary>A recorded run: the ISN of each connection's first SYN, in order (the kernel's own choices), for the other stack to take.</summary>
    internal IReadOnlyList<uint>? LocalIsns { get; init; }
    /// <summary>The timing tolerance the run used.</summary>
    public TimeSpan Tolerance { get; init; }
    /// <summary>Every event and every packet the stack sent, in order, with virtual times.</summary>
    public IReadOnlyList<string> Transcript { get; init; } = [];

    /// <summary>"pass", "fail" or "unsupported".</summary>
    public string ResultName => Result switch
    {
        ScriptOutcome.Pass => "pass",
        ScriptOutcome.Fail => "fail",
        _ => "unsupported",
    };
}
