using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>The stack configurations a script can run against.</summary>
public static class Profiles
{
    public static IReadOnlyList<string> Names { get; } = ["freebsd", "synack"];

    /// <summary><c>freebsd</c>: what the FreeBSD suite assumes; <c>synack</c>: the stack's own defaults (Linux-like).</summary>
    public static ConnectionOptions? Find(string name) => name.ToLowerInvariant() switch
    {
        "freebsd" => ConnectionOptions.FreeBsd,
        "synack" or "default" or "linux" => ConnectionOptions.Default,
        _ => null,
    };
}
