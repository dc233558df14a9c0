namespace Synack.KernelBench;

/// <summary>The synack program itself, which the bench starts again inside a network namespace (serve, bench-kernel-bulk).</summary>
internal static class SynackProgram
{
    /// <summary>How to run this program again (the apphost, or dotnet with synack.dll), or null when the bench runs inside another host.</summary>
    public static string[]? Self()
    {
        var entry = System.Reflection.Assembly.GetEntryAssembly();
        if (entry?.GetName().Name != "synack" || Environment.ProcessPath is not { } process) return null;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, entry.Location] : [process];
    }
}
