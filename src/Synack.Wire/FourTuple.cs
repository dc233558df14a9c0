namespace Synack.Wire;

/// <summary>What names a TCP connection: (local address, local port, remote address, remote port).</summary>
/// <remarks>
/// Stored as four words, two ports and two family flags (40 bytes) rather than as two
/// <see cref="IpAddr"/> values, each padded to 24 bytes (64 in all): the tuple is kept twice for every
/// connection (in the TCB and as the table's key), so the padding cost 48 bytes an endpoint.
/// </remarks>
public readonly struct FourTuple : IEquatable<FourTuple>
{
    private readonly ulong _localHi, _localLo, _remoteHi, _remoteLo;
    private readonly ushort _localPort, _remotePort;
    private readonly bool _localV6, _remoteV6;

    /// <summary>A connection's identity as one endpoint sees it.</summary>
    public FourTuple(IpAddr localAddress, ushort localPort, IpAddr remoteAddress, ushort remotePort)
    {
        (_localHi, _localLo, _localV6) = (localAddress.Hi, localAddress.Lo, localAddress.IsV6);
        (_remoteHi, _remoteLo, _remoteV6) = (remoteAddress.Hi, remoteAddress.Lo, remoteAddress.IsV6);
        _localPort = localPort;
        _remotePort = remotePort;
    }

    /// <summary>This endpoint's address.</summary>
    public IpAddr LocalAddress
    {
        get => new(_localHi, _localLo, _localV6);
        init => (_localHi, _localLo, _localV6) = (value.Hi, value.Lo, value.IsV6);
    }

    /// <summary>This endpoint's port.</summary>
    public ushort LocalPort { get => _localPort; init => _localPort = value; }

    /// <summary>The peer's address.</summary>
    public IpAddr RemoteAddress
    {
        get => new(_remoteHi, _remoteLo, _remoteV6);
        init => (_remoteHi, _remoteLo, _remoteV6) = (value.Hi, value.Lo, value.IsV6);
    }

    /// <summary>The peer's port.</summary>
    public ushort RemotePort { get => _remotePort; init => _remotePort = value; }

    /// <summary>The same connection as the peer sees it: local and remote swapped.</summary>
    public FourTuple Reversed => new(RemoteAddress, RemotePort, LocalAddress, LocalPort);

    /// <summary>Deconstructs into local address and port, remote address and port.</summary>
    public void Deconstruct(out IpAddr localAddress, out ushort localPort, out IpAddr remoteAddress, out ushort remotePort)
        => (localAddress, localPort, remoteAddress, remotePort) = (LocalAddress, LocalPort, RemoteAddress, RemotePort);

    /// <summary>True when all four fields are equal.</summary>
    public bool Equals(FourTuple other) =>
        _localLo == other._localLo && _remoteLo == other._remoteLo
        && _localPort == other._localPort && _remotePort == other._remotePort
        && _localHi == other._localHi && _remoteHi == other._remoteHi
        && _localV6 == other._localV6 && _remoteV6 == other._remoteV6;

    /// <summary>True when <paramref name="obj"/> is an equal <see cref="FourTuple"/>.</summary>
    public override bool Equals(object? obj) => obj is FourTuple other && Equals(other);

    /// <summary>A hash of all four fields (stable within a process, not across processes).</summary>
    public override int GetHashCode() =>
        HashCode.Combine(_localHi ^ _remoteHi, _localLo, _remoteLo, _localPort | (_remotePort << 16), _localV6 | _remoteV6);

    /// <summary>True when all four fields are equal.</summary>
    public static bool operator ==(FourTuple left, FourTuple right) => left.Equals(right);
    /// <summary>True when any field differs.</summary>
    public static bool operator !=(FourTuple left, FourTuple right) => !left.Equals(right);

    /// <summary>"local &lt;-&gt; remote", IPv6 addresses in brackets.</summary>
    public override string ToString() => $"{Format(LocalAddress, LocalPort)} <-> {Format(RemoteAddress, RemotePort)}";

    /// <summary>An address and port as "a:p", or "[a]:p" for IPv6.</summary>
    public static string Format(IpAddr a, ushort port) => a.IsV6 ? $"[{a}]:{port}" : $"{a}:{port}";
}
