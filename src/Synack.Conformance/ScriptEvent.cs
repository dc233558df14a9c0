namespace Synack.Conformance;

/// <summary>One line of a script that does something, with its place in the file.</summary>
public sealed record ScriptEvent(int Line, EventTime Time, EventKind Kind, string Text);
