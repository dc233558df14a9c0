namespace Synack.Services;

/// <summary>The bytes <c>GET /bytes/N</c> serves: byte i is i mod 251, so any client can check them.</summary>
public static class DeterministicBytes
{
    // Whole periods of the stream, copied from instead of computed byte by byte: the server of a
    // benchmark should spend its time on the network, not on making the bytes (a byte loop here was a
    // fifth of the server's CPU in a profile of a 500 MiB download).
    private const int Period = 251;
    private static readonly byte[] Periods = Make(Period * 64);

    private static byte[] Make(int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++) bytes[i] = (byte)(i % Period);
        return bytes;
    }

    /// <summary>Fills <paramref name="dest"/> with the bytes at <paramref name="offset"/> of the endless stream.</summary>
    public static void Fill(long offset, Span<byte> dest)
    {
        int start = (int)(offset % Period);
        while (!dest.IsEmpty)
        {
            int n = Math.Min(dest.Length, Periods.Length - start);
            Periods.AsSpan(start, n).CopyTo(dest);
            dest = dest[n..];
            start = (start + n) % Period;
        }
    }
}
