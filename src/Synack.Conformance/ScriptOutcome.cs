namespace Synack.Conformance;

public enum ScriptOutcome
{
    Pass,
    Fail,
    Unsupported,
}
