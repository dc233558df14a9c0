namespace Synack.Wire;

/// <summary>
/// The order in which options are written. Peers and conformance scripts compare the exact bytes of
/// a SYN, so the layout is configuration, not an accident of the writer. NOP entries are written
/// as they stand; an option kind is written only when the segment carries it.
/// </summary>
public sealed class TcpOptionLayout
{
    private readonly TcpOptionKind[] _kinds;

    /// <summary>A layout that writes <paramref name="kinds"/> in the order given, NOPs where listed.</summary>
    public TcpOptionLayout(string name, params TcpOptionKind[] kinds)
    {
        Name = name;
        _kinds = kinds;
    }

    private TcpOptionLayout(string name, bool bsdAlignment, params TcpOptionKind[] kinds)
        : this(name, kinds) => BsdAlignment = bsdAlignment;

    private TcpOptionLayout(string name, bool bsdAlignment, bool linuxPadding, params TcpOptionKind[] kinds)
        : this(name, bsdAlignment, kinds) => LinuxPadding = linuxPadding;

    /// <summary>The layout's name: "linux", "freebsd", "study-note", "established" or your own.</summary>
    public string Name { get; }

    /// <summary>
    /// NOPs are not listed but computed as BSD's tcp_addoptions() does: window scale at an odd offset,
    /// SACK-permitted at an even one, timestamps and SACK blocks at 2 mod 4. The bytes then depend on
    /// which options a segment carries, exactly as FreeBSD's do.
    /// </summary>
    public bool BsdAlignment { get; }
    /// <summary>
    /// Options padded as Linux's tcp_options_write() pads them: sackOK rides in the two bytes before
    /// TS when both go (else TS gets nop, nop and sackOK gets nop, nop before it), window scale gets
    /// one nop, SACK blocks two. The listed order is then mss, TS, sackOK, wscale, SACK.
    /// </summary>
    public bool LinuxPadding { get; }
    /// <summary>The option kinds in the order they are written.</summary>
    public ReadOnlySpan<TcpOptionKind> Kinds => _kinds;

    /// <summary>Linux: mss, sackOK, TS, nop, wscale (20 bytes) with all four; mss, nop, nop, sackOK, nop, wscale without timestamps.</summary>
    public static readonly TcpOptionLayout Linux = new("linux", bsdAlignment: false, linuxPadding: true,
        TcpOptionKind.Mss, TcpOptionKind.Timestamps, TcpOptionKind.SackPermitted, TcpOptionKind.WindowScale, TcpOptionKind.Sack);

    /// <summary>FreeBSD: mss, nop, wscale, sackOK, TS (20 bytes) with all four; NOPs placed by BSD's alignment rules otherwise.</summary>
    public static readonly TcpOptionLayout FreeBsd = new("freebsd", bsdAlignment: true,
        TcpOptionKind.Mss, TcpOptionKind.WindowScale, TcpOptionKind.SackPermitted, TcpOptionKind.Timestamps, TcpOptionKind.Sack);

    /// <summary>The classic 32-byte SYN of the scenarios (docs/scenarios.md, S2): mss, nop, wscale, nop, nop, sackOK (12 bytes, no timestamps).</summary>
    public static readonly TcpOptionLayout StudyNote = new("study-note",
        TcpOptionKind.Mss, TcpOptionKind.Nop, TcpOptionKind.WindowScale, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.SackPermitted);

    /// <summary>Every segment after the SYN: nop, nop, TS, then nop, nop, SACK blocks (as Linux writes them).</summary>
    public static readonly TcpOptionLayout Established = new("established",
        TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.Timestamps, TcpOptionKind.Nop, TcpOptionKind.Nop, TcpOptionKind.Sack);

    /// <summary>A built-in layout by name, or null.</summary>
    public static TcpOptionLayout? FromName(string name) => name.ToLowerInvariant() switch
    {
        "linux" => Linux,
        "freebsd" => FreeBsd,
        "study-note" => StudyNote,
        _ => null,
    };

    /// <summary>The layout's name.</summary>
    public override string ToString() => Name;
}
