using System.Diagnostics;

namespace Synack.Fuzz;

/// <summary>
/// `synack-fuzz damage DIR COUNT [SEED]`: every capture under DIR through the capture target as it is,
/// then COUNT damaged copies of them — cut short at a random byte, bits flipped, two files spliced, or
/// all three — in one process. A copy that throws is a crash, one that takes more than ten seconds a
/// hang; each is saved (under DIR-damage-findings) with the seed that made it. Prints the tally.
/// </summary>
internal static class CaptureDamage
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(10);
    private static readonly string[] Suffixes = [".pcap", ".pcapng", ".cap", ".trace", ".dmp", ".gz", ".zst"];

    public static int Run(string dir, int count, int seed)
    {
        var files = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories)
            .Where(f => Suffixes.Any(x => f.EndsWith(x, StringComparison.OrdinalIgnoreCase)) && new FileInfo(f).Length is > 0 and <= 4 << 20)
            .Order(StringComparer.Ordinal)
            .Select(File.ReadAllBytes)
            .ToList();
        if (files.Count == 0)
        {
            Console.Error.WriteLine($"synack-fuzz damage: no file under {dir}");
            return 2;
        }
        var findings = dir.TrimEnd('/') + "-damage-findings";
        int crashes = 0, hangs = 0;
        var slowest = TimeSpan.Zero;
        var total = Stopwatch.StartNew();
        for (int i = -files.Count; i < count; i++)
        {
            // First the files as they are, then the damaged copies.
            var rng = new Random(HashCode.Combine(seed, i));
            var input = i < 0 ? files[i + files.Count] : Damage(files, rng);
            var sw = Stopwatch.StartNew();
            try
            {
                FuzzTargets.Run("capture", input);
            }
            catch (Exception ex)
            {
                crashes++;
                Save(findings, $"crash-{seed}-{i}", input);
                Console.Error.WriteLine($"crash on copy {i} (seed {seed}): {ex.GetType().Name}: {ex.Message}");
            }
            sw.Stop();
            if (sw.Elapsed > slowest) slowest = sw.Elapsed;
            if (sw.Elapsed > Hang)
            {
                hangs++;
                Save(findings, $"hang-{seed}-{i}", input);
            }
        }
        Console.WriteLine($"{files.Count} captures and {count} damaged copies in {total.Elapsed.TotalSeconds:F1} s: {crashes} crashes, {hangs} hangs (over {Hang.TotalSeconds:F0} s), slowest {slowest.TotalMilliseconds:F0} ms");
        return crashes + hangs == 0 ? 0 : 1;
    }

    private static byte[] Damage(List<byte[]> files, Random rng)
    {
        var a = files[rng.Next(files.Count)];
        int kind = rng.Next(4);
        byte[] d = a;
        if (kind is 2 or 3)
        {
            var b = files[rng.Next(files.Count)];
            int cutA = rng.Next(a.Length + 1), fromB = rng.Next(b.Length + 1);
            d = [.. a.AsSpan(0, cutA), .. b.AsSpan(fromB)];
        }
        else
        {
            d = (byte[])a.Clone();
        }
        if (kind is 1 or 3 && d.Length > 0)
        {
            int flips = 1 + rng.Next(16);
            for (int k = 0; k < flips; k++) d[rng.Next(d.Length)] ^= (byte)(1 << rng.Next(8));
        }
        if (kind is 0 or 3 && d.Length > 0) d = d[..rng.Next(d.Length)];
        return d;
    }

    private static void Save(string dir, string name, byte[] input)
    {
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(Path.Combine(dir, name), input);
    }
}
