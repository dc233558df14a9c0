namespace Synack.Conformance;

/// <summary>A script that does not parse: the file, the line and what is wrong.</summary>
public sealed class ScriptParseException(string path, int line, string message) : Exception($"{path}:{line}: {message}")
{
    /// <summary>The script's path.</summary>
    public string ScriptPath { get; } = path;
    /// <summary>The line that could not be read.</summary>
    public int Line { get; } = line;
}
