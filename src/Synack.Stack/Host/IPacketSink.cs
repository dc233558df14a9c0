namespace Synack.Stack;

/// <summary>Where a stack's outgoing IP packets go: a link. The span is valid only during the call.</summary>
public interface IPacketSink
{
    /// <summary>Takes one IP packet from <paramref name="from"/>; the span is only valid during the call.</summary>
    void Transmit(INetworkNode from, ReadOnlySpan<byte> packet);
}
