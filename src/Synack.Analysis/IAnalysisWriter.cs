namespace Synack.Analysis;

/// <summary>Where a streaming analysis goes: packets in frame order as they are settled, then the summary.</summary>
public interface IAnalysisWriter
{
    /// <summary>One packet, once its findings and inferred states are settled.</summary>
    void Packet(Conversation conversation, PacketView packet);

    /// <summary>The end of the capture: the conversations and the summary.</summary>
    void End(AnalysisSummary summary);
}
