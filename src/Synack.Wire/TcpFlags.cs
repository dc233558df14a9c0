namespace Synack.Wire;

[Flags]
public enum TcpFlags : byte
{
    None = 0,
    Fin = 0x01,
    Syn = 0x02,
    Rst = 0x04,
    Psh = 0x08,
    Ack = 0x10,
    Urg = 0x20,
    Ece = 0x40,
    Cwr = 0x80,
}

public static class TcpFlagsExtensions
{
    /// <summary>Short form as tcpdump and Zeek spell it: "S", "SA", "FA", "R", "." for a bare ACK.</summary>
    // Every flag byte's text, made once: analysis writes one per packet, millions of them.
    private static readonly string[] ShortStrings = Enumerable.Range(0, 256).Select(i => Format((TcpFlags)i)).ToArray();

    public static string ToShortString(this TcpFlags f) => ShortStrings[(byte)f];

    private static string Format(TcpFlags f)
    {
        Span<char> buf = stackalloc char[8];
        int n = 0;
        if (f.Has(TcpFlags.Syn)) buf[n++] = 'S';
        if (f.Has(TcpFlags.Fin)) buf[n++] = 'F';
        if (f.Has(TcpFlags.Rst)) buf[n++] = 'R';
        if (f.Has(TcpFlags.Psh)) buf[n++] = 'P';
        if (f.Has(TcpFlags.Urg)) buf[n++] = 'U';
        if (f.Has(TcpFlags.Ece)) buf[n++] = 'E';
        if (f.Has(TcpFlags.Cwr)) buf[n++] = 'W';
        if (f.Has(TcpFlags.Ack)) buf[n] = n++ == 0 ? '.' : 'A';
        return n == 0 ? "none" : new string(buf[..n]);
    }

    public static bool Has(this TcpFlags f, TcpFlags bits) => (f & bits) == bits;
}
