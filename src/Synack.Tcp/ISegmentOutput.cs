using Synack.Wire;

namespace Synack.Tcp;

/// <summary>Where the <see cref="Sender"/> puts its segments: the connection fills in the rest (ACK, window, options, ECN) and sends.</summary>
internal interface ISegmentOutput
{
    void SendSegment(SeqNum seq, TcpFlags flags, ReadOnlySpan<byte> payload, bool isNewData, TimeSpan now);
}
