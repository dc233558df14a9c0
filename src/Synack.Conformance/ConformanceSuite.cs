using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>Runs a directory of packetdrill scripts.</summary>
public static class ConformanceSuite
{
    /// <summary>Runs every script under <paramref name="directory"/> (recursively) against a fresh stack each.</summary>
    public static ConformanceReport Run(string directory, ConnectionOptions? profile = null)
    {
        var root = Path.GetFullPath(directory);
        var files = System.IO.Directory.EnumerateFiles(root, "*.pkt", SearchOption.AllDirectories)
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        var results = new ScriptResult[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            var rel = Path.GetRelativePath(root, files[i]).Replace('\\', '/');
            results[i] = PacketdrillRunner.RunFile(files[i], profile, rel);
        });
        return new ConformanceReport(root, results);
    }
}
