namespace Synack.Analysis;

/// <summary>Where a streaming analysis goes: packets in frame order as they are settled, then the summary.</summary>
public interface IAnalysisWriter
{
    void Packet(Conversation conversation, PacketView packet);

    void End(AnalysisSummary summary);
}
