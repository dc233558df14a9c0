namespace Synack.Conformance;

/// <summary>A script that does not parse: the file, the line and what is wrong.</summary>
public sealed class ScriptParseException(string path, int line, string message) : Exception($"{path}:{line}: {message}")
{
    public string ScriptPath { get; } = path;
    public int Line { get; } = line;
}
