using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>Runs a directory of packetdrill scripts.</summary>
public static class ConformanceSuite
{
    /// <summary>Runs every script under <paramref name="directory"/> (recursively) against a fresh stack each.</summary>
    public static ConformanceReport Run(string directory, ConnectionOptions? profile = null) => Run(directory, ConformanceTarget.Synack, profile);

    /// <summary>
    /// Runs every script under <paramref name="directory"/> (or the one script it names) on the kernel
    /// and on Synack (<paramref name="profile"/>, else Linux 6.18's: the kernel it is held to; a script's
    /// --profile= line overrides either) and compares what each did.
    /// </summary>
    public static ComparisonReport Compare(string directory, ConnectionOptions? profile = null)
    {
        var root = Path.GetFullPath(directory);
        bool one = File.Exists(root);
        var files = one ? [root] : System.IO.Directory.EnumerateFiles(root, "*.pkt", SearchOption.AllDirectories).OrderBy(f => f, StringComparer.Ordinal).ToList();
        var baseDir = one ? Path.GetDirectoryName(root)! : root;
        var results = new List<ScriptComparison>();
        foreach (var file in files)
        {
            var rel = Path.GetRelativePath(baseDir, file).Replace('\\', '/');
            var kernel = PacketdrillRunner.RunFile(file, ConformanceTarget.Kernel, displayPath: rel);
            // Synack as the kernel it is held to: Linux 6.18's rules, whatever the script's dialect (a
            // FreeBSD profile held to Linux would compare nothing useful), unless asked otherwise.
            var synack = PacketdrillRunner.RunFile(file, ConformanceTarget.Synack, profile ?? ConnectionOptions.Linux618, displayPath: rel);
            results.Add(new ScriptComparison(rel, kernel, synack));
        }
        return new ComparisonReport(baseDir, results);
    }

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
