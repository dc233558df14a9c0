using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>Runs a directory of packetdrill scripts.</summary>
public static class ConformanceSuite
{
    /// <summary>Runs every script under <paramref name="directory"/> (recursively) against a fresh stack each.</summary>
    public static ConformanceReport Run(string directory, ConnectionOptions? profile = null) => Run(directory, ConformanceTarget.Synack, profile);

    /// <summary>
    /// Runs every script under <paramref name="directory"/> against <paramref name="target"/>: on Synack
    /// in parallel (virtual time), on the kernel one after another (real time: a loaded machine would blur the timing).
    /// </summary>
    public static ConformanceReport Run(string directory, ConformanceTarget target, ConnectionOptions? profile = null)
    {
        var root = Path.GetFullPath(directory);
        var files = System.IO.Directory.EnumerateFiles(root, "*.pkt", SearchOption.AllDirectories)
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToList();
        var results = new ScriptResult[files.Count];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = target == ConformanceTarget.Kernel ? 1 : -1 };
        Parallel.For(0, files.Count, parallel, i =>
        {
            var rel = Path.GetRelativePath(root, files[i]).Replace('\\', '/');
            results[i] = PacketdrillRunner.RunFile(files[i], target, profile, rel);
        });
        return new ConformanceReport(root, results);
    }
}
