namespace Synack.Conformance;

/// <summary>How a script went.</summary>
public enum ScriptOutcome
{
    /// <summary>Every line held.</summary>
    Pass,
    /// <summary>A line did not hold.</summary>
    Fail,
    /// <summary>The script needs something the runner does not have.</summary>
    Unsupported,
}
