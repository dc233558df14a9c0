namespace Synack.Stack;

/// <summary>Where a stack's outgoing IP packets go: a link. The span is valid only during the call.</summary>
public interface IPacketSink
{
    void Transmit(INetworkNode from, ReadOnlySpan<byte> packet);
}
