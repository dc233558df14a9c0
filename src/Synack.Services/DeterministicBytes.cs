namespace Synack.Services;

/// <summary>The bytes <c>GET /bytes/N</c> serves: byte i is i mod 251, so any client can check them.</summary>
public static class DeterministicBytes
{
    /// <summary>Fills <paramref name="dest"/> with the bytes at <paramref name="offset"/> of the endless stream.</summary>
    public static void Fill(long offset, Span<byte> dest)
    {
        int start = (int)(offset % 251);
        for (int i = 0; i < dest.Length; i++)
        {
            dest[i] = (byte)start;
            if (++start == 251) start = 0;
        }
    }
}
