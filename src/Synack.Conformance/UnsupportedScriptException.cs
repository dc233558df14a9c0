namespace Synack.Conformance;

/// <summary>A script that needs something this stack deliberately does not do.</summary>
public sealed class UnsupportedScriptException(string reason) : Exception(reason);
