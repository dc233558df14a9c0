namespace Synack.Stack.Tests;

/// <summary>How the tests read a connection: to its end, or an exact count (a stream that ends first fails the test).</summary>
internal static class Reads
{
    public static async Task<byte[]> ToEnd(TcpConnection c)
    {
        var all = new MemoryStream();
        var buf = new byte[64 * 1024];
        int n;
        while ((n = await c.ReadAsync(buf)) > 0) all.Write(buf, 0, n);
        return all.ToArray();
    }

    public static async Task<byte[]> Exactly(TcpConnection c, int n)
    {
        var b = new byte[n];
        for (int got = 0; got < n;)
        {
            int k = await c.ReadAsync(b.AsMemory(got));
            Assert.True(k > 0, $"the stream ended after {got} of {n} bytes");
            got += k;
        }
        return b;
    }
}
