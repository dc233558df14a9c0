namespace Synack.Wire;

/// <summary>One packet of a capture file.</summary>
public sealed record CapturedPacket(
    int Frame,
    long TimestampNs,
    int Interface,
    int LinkType,
    byte[] Data,
    int OriginalLength,
    PacketDirection Direction,
    string? Comment)
{
    /// <summary>Where the IP packet starts inside <see cref="Data"/>, or -1 when the link header says it is not IP.</summary>
    public int IpOffset => CaptureReader.IpOffset(LinkType, Data);

    /// <summary>The IP packet inside the link-layer frame, or empty when the frame does not carry IP.</summary>
    public ReadOnlySpan<byte> Ip => IpOffset is int o and >= 0 ? Data.AsSpan(o) : default;
}
