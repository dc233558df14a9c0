namespace Synack.Wire;

/// <summary>The TCP header's control bits (RFC 9293, RFC 3168 for ECE and CWR).</summary>
[Flags]
public enum TcpFlags : byte
{
    /// <summary>No bit set.</summary>
    None = 0,
    /// <summary>FIN: no more data from the sender.</summary>
    Fin = 0x01,
    /// <summary>SYN: synchronize sequence numbers.</summary>
    Syn = 0x02,
    /// <summary>RST: reset the connection.</summary>
    Rst = 0x04,
    /// <summary>PSH: push.</summary>
    Psh = 0x08,
    /// <summary>ACK: the acknowledgment field is significant.</summary>
    Ack = 0x10,
    /// <summary>URG: the urgent pointer is significant.</summary>
    Urg = 0x20,
    /// <summary>ECE: ECN echo.</summary>
    Ece = 0x40,
    /// <summary>CWR: congestion window reduced.</summary>
    Cwr = 0x80,
}

/// <summary>Text for <see cref="TcpFlags"/>.</summary>
public static class TcpFlagsExtensions
{
    // Every flag byte's text, made once: analysis writes one per packet, millions of them.
    private static readonly string[] ShortStrings = Enumerable.Range(0, 256).Select(i => Format((TcpFlags)i)).ToArray();

    /// <summary>The flags' letters as Zeek spells them: "S", "SA", "FA", "R", "PA", and "." for a bare ACK.</summary>
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

    /// <summary>True when every bit of <paramref name="bits"/> is set.</summary>
    public static bool Has(this TcpFlags f, TcpFlags bits) => (f & bits) == bits;
}
