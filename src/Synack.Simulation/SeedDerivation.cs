namespace Synack.Simulation;

/// <summary>
/// Seeds for the parts of a run, derived from the run's seed by a fixed function (SplitMix64's
/// finaliser), so a seed names the same run in every process and on every machine. .NET's
/// <see cref="HashCode"/> cannot do this: it is randomised per process.
/// </summary>
public static class SeedDerivation
{
    /// <summary>A seed for part <paramref name="part"/> (a host's index, a connection's id) of the run seeded <paramref name="seed"/>.</summary>
    public static int Derive(int seed, int part) => Derive(seed, part, 0);

    /// <summary>A seed for part (<paramref name="part"/>, <paramref name="subpart"/>) of the run seeded <paramref name="seed"/>.</summary>
    public static int Derive(int seed, int part, int subpart)
    {
        ulong x = (ulong)(uint)seed;
        x = Mix(x + 0x9E3779B97F4A7C15UL * (1 + (ulong)(uint)part));
        x = Mix(x + 0x9E3779B97F4A7C15UL * (1 + (ulong)(uint)subpart));
        return (int)(x ^ x >> 32);
    }

    private static ulong Mix(ulong z)
    {
        z = (z ^ z >> 30) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ z >> 27) * 0x94D049BB133111EBUL;
        return z ^ z >> 31;
    }
}
