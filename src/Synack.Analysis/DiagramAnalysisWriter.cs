namespace Synack.Analysis;

/// <summary>
/// The HTML report (<see cref="LadderHtml"/>) or the Mermaid sequence diagrams, from a streaming
/// analysis: the first <see cref="LadderHtml.MaxDrawn"/> conversations are sketched as their packets go
/// by (<see cref="ConversationSketch"/>: bounded, however long they run) and everything is written at the
/// end, when the table of conversations is known. Memory does not grow with the file's packets.
/// </summary>
public sealed class DiagramAnalysisWriter(TextWriter output, string title, bool mermaid = false) : IAnalysisWriter
{
    private readonly Dictionary<int, ConversationSketch> _drawn = [];

    /// <summary>Adds a packet to its conversation's sketch.</summary>
    public void Packet(Conversation conversation, PacketView packet)
    {
        if (!_drawn.TryGetValue(conversation.Stream, out var sketch))
        {
            if (_drawn.Count >= LadderHtml.MaxDrawn) return;
            sketch = new ConversationSketch(conversation);
            _drawn.Add(conversation.Stream, sketch);
        }
        sketch.Add(packet);
    }

    /// <summary>Writes the diagrams.</summary>
    public void End(AnalysisSummary summary)
    {
        var drawn = _drawn.Values.ToList();
        drawn.Sort((a, b) => a.Conversation.Stream.CompareTo(b.Conversation.Stream)); // in stream order, as the table
        if (mermaid) LadderHtml.WriteMermaid(output, drawn);
        else LadderHtml.Write(output, title, summary.Conversations, drawn, summary);
        output.Flush();
    }
}
