using System.Text;
using static Synack.Analysis.AnalysisRenderer;

namespace Synack.Analysis;

/// <summary>
/// The text view, written as the analysis goes: one line per TCP packet in frame order (a conversation
/// announced by its first), then each conversation's summary and what was skipped.
/// </summary>
public sealed class TextAnalysisWriter(TextWriter output) : IAnalysisWriter
{
    private readonly HashSet<int> _announced = [];
    private readonly StringBuilder _line = new(160);

    /// <summary>Writes one ladder line.</summary>
    public void Packet(Conversation c, PacketView p)
    {
        if (_announced.Add(c.Stream))
        {
            output.WriteLine(string.Create(Inv, $"stream {c.Stream}: {c.Client} -> {c.Server}"));
            if (_announced.Count == 1)
                output.WriteLine(string.Create(Inv, $"  {"frame",6} {"strm",4} {"time s",10}  {"client (inferred)",-18} {"",3}{"flags",-5} {"seq",-18} {"ack",-18} {"len",6} {"win",8} {"",3} {"server (inferred)",-18} findings"));
        }
        string dirL = p.FromClient ? "   " : "<--", dirR = p.FromClient ? "-->" : "   ";
        string ack = (p.Flags & Synack.Wire.TcpFlags.Ack) != 0 ? $"{p.Ack} ({p.AckRaw})" : "-";
        _line.Clear();
        _line.Append(Inv, $"  {p.Frame,6} {p.Stream,4} {p.Time,10:F6}  {Name(p.ClientState),-18} {dirL}{p.FlagText,-5} {$"{p.Seq} ({p.SeqRaw})",-18} {ack,-18} {p.Length,6} {p.Window,8} {dirR} {Name(p.ServerState),-18} {string.Join(",", p.Findings)}");
        if (Checksum(p) == "bad") _line.Append(p.Findings.Count > 0 ? ",bad_checksum" : "bad_checksum");
        output.WriteLine(_line);
    }

    /// <summary>Writes the conversations and the summary.</summary>
    public void End(AnalysisSummary s)
    {
        output.WriteLine();
        foreach (var c in s.Conversations)
        {
            output.WriteLine(string.Create(Inv, $"stream {c.Stream}: {c.Client} -> {c.Server}  close {c.CloseKind}, conn_state {c.ConnState}, history {c.History}, " +
                $"packets {c.PacketCount}, bytes {c.ClientBytes}/{c.ServerBytes}{(c.HandshakeRttMs is double rtt ? $", handshake RTT {rtt:F3} ms" : "")}"));
            output.WriteLine(string.Create(Inv, $"  ISNs client {c.ClientIsn?.ToString(Inv) ?? "?"}, server {c.ServerIsn?.ToString(Inv) ?? "?"}; options client {Options(c.ClientOptions)}, server {Options(c.ServerOptions)}"));
        }
        output.WriteLine(Totals(s));
        if (s.IpChecksumBad > 0) output.WriteLine(string.Create(Inv, $"{s.IpChecksumBad} TCP frames with a bad IPv4 header checksum (offload, usually), analyzed all the same"));
        if (s.TcpChecksumBad is long bad) output.WriteLine(string.Create(Inv, $"TCP checksums verified: {bad} bad"));
        foreach (var line in Skipped(s)) output.WriteLine(line);
        output.Flush();
    }
}
