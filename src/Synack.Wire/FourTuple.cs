namespace Synack.Wire;

/// <summary>What names a TCP connection: (local address, local port, remote address, remote port).</summary>
public readonly record struct FourTuple(IpAddr LocalAddress, ushort LocalPort, IpAddr RemoteAddress, ushort RemotePort)
{
    public FourTuple Reversed => new(RemoteAddress, RemotePort, LocalAddress, LocalPort);

    public override string ToString() => $"{Format(LocalAddress, LocalPort)} <-> {Format(RemoteAddress, RemotePort)}";

    public static string Format(IpAddr a, ushort port) => a.IsV6 ? $"[{a}]:{port}" : $"{a}:{port}";
}
