namespace Synack.Stack;

/// <summary>
/// A sink that may hold packets back to send several as one (segmentation offload, batched writes).
/// The loop calls <see cref="Flush"/> whenever it has run out of work, before it sleeps, so nothing
/// waits longer than the work that produced it.
/// </summary>
public interface IBatchingPacketSink : IPacketSink
{
    /// <summary>Sends whatever is held back (or queues it for <see cref="WriteQueued"/>).</summary>
    void Flush();

    /// <summary>
    /// Called by the stack's loop after it has let go of the stack: writes what <see cref="Flush"/>
    /// queued, so a device write (which on a TUN device runs the kernel's own receive path) does not
    /// hold up the threads waiting for the stack. Whoever calls it while another thread is writing
    /// leaves the writing to that thread; packets go out in the order they were queued.
    /// </summary>
    void WriteQueued() { }

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

    /// <summary>Bytes the sink wants left free before a packet handed over with <see cref="TransmitOwned"/> (room for a header of its own).</summary>
    int Headroom => 0;

    /// <summary>
    /// <see cref="Transmit(INetworkNode, ReadOnlySpan{byte}, int)"/> for a packet of <paramref name="length"/>
    /// bytes built at <see cref="Headroom"/> in <paramref name="buffer"/>, rented from
    /// <see cref="System.Buffers.ArrayPool{T}.Shared"/>: the buffer is the sink's now (returned or queued),
    /// so a packet it sends as it is need not be copied again.
    /// </summary>
    void TransmitOwned(INetworkNode from, byte[] buffer, int length, int segmentSize)
    {
        try
        {
            Transmit(from, buffer.AsSpan(Headroom, length), segmentSize);
        }
        finally
        {
            System.Buffers.ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
