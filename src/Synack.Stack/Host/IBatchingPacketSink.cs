namespace Synack.Stack;

/// <summary>
/// A sink that may hold packets back to send several as one (segmentation offload, batched writes).
/// The loop calls <see cref="Flush"/> whenever it has run out of work, before it sleeps, so nothing
/// waits longer than the work that produced it.
/// </summary>
public interface IBatchingPacketSink : IPacketSink
{
    /// <summary>Sends whatever is held back.</summary>
    void Flush();

    /// <summary>
    /// The device finishes TCP checksums (checksum offload): the stack writes only the pseudo-header's
    /// sum, and captures of what it sends show such checksums as "partial", as on any host that offloads.
    /// </summary>
    bool CompletesTcpChecksums { get; }

    /// <summary>
    /// TCP segmentation offload: the largest segment a connection may hand over in one piece, to be
    /// cut (or taken whole) at <see cref="Transmit(INetworkNode, ReadOnlySpan{byte}, int)"/>'s segment
    /// size; 0 when every segment must already be MSS-sized.
    /// </summary>
    int MaxSegmentBytes { get; }

    /// <summary>A packet whose TCP payload stands for segments of <paramref name="segmentSize"/> bytes (the last may be shorter).</summary>
    void Transmit(INetworkNode from, ReadOnlySpan<byte> packet, int segmentSize);
}
