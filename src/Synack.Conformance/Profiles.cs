using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>The stack configurations a script can run against.</summary>
public static class Profiles
{
    /// <summary>The names <c>--profile</c> takes.</summary>
    public static IReadOnlyList<string> Names { get; } = ["auto", "freebsd", "linux", "linux-6.18", "synack", "synack-no-quickack"];

    /// <summary>
    /// <c>freebsd</c>: what the FreeBSD suite assumes; <c>linux</c>: Linux's built-in defaults (Google's
    /// scripts then apply their defaults.sh); <c>linux-6.18</c>: the same with the rules of the kernel
    /// Synack is held to by <c>--target both</c> (see <see cref="ConnectionOptions.Linux618"/>); <c>synack</c>: the stack's own defaults;
    /// <c>synack-no-quickack</c>: the same with every ACK delayed by RFC 1122's rules, as the study
    /// note's scenarios (and our scripts of them) show it. <c>auto</c> (null):
    /// Linux for a script in Google's dialect, else FreeBSD.
    /// </summary>
    public static bool TryFind(string name, out ConnectionOptions? profile)
    {
        profile = name.ToLowerInvariant() switch
        {
            "freebsd" => ConnectionOptions.FreeBsd,
            "linux" => ConnectionOptions.Linux,
            "linux-6.18" => ConnectionOptions.Linux618,
            "synack" or "default" => ConnectionOptions.Default,
            "synack-no-quickack" => ConnectionOptions.Default with { QuickAcks = 0 },
            _ => null,
        };
        return profile is not null || name.Equals("auto", StringComparison.OrdinalIgnoreCase);
    }
}
