using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Synack.Analysis;

/// <summary>Text and JSON views of an analysis. The JSON is a contract (documented in the README).</summary>
public static class AnalysisRenderer
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static string Name(InferredState s) => s switch
    {
        InferredState.SynSent => "SYN-SENT",
        InferredState.SynReceived => "SYN-RECEIVED",
        InferredState.FinWait1 => "FIN-WAIT-1",
        InferredState.FinWait2 => "FIN-WAIT-2",
        InferredState.CloseWait => "CLOSE-WAIT",
        InferredState.LastAck => "LAST-ACK",
        InferredState.TimeWait => "TIME-WAIT",
        _ => s.ToString().ToUpperInvariant(),
    };

    public static string Text(IReadOnlyList<Conversation> conversations)
    {
        var sb = new StringBuilder();
        foreach (var c in conversations)
        {
            sb.AppendLine(Inv, $"stream {c.Stream}: {c.Client} -> {c.Server}  close {c.CloseKind}, conn_state {c.ConnState}, history {c.History}, " +
                $"bytes {c.ClientBytes}/{c.ServerBytes}{(c.HandshakeRttMs is double rtt ? $", handshake RTT {rtt:F3} ms" : "")}");
            sb.AppendLine(Inv, $"  ISNs client {c.ClientIsn?.ToString(Inv) ?? "?"}, server {c.ServerIsn?.ToString(Inv) ?? "?"}; options client {Options(c.ClientOptions)}, server {Options(c.ServerOptions)}");
            sb.AppendLine(Inv, $"  {"frame",6} {"time s",10}  {"client (inferred)",-18} {"",3}{"flags",-5} {"seq",-18} {"ack",-18} {"len",6} {"win",8} {"",3} {"server (inferred)",-18} findings");
            foreach (var p in c.Packets)
            {
                string dirL = p.FromClient ? "   " : "<--", dirR = p.FromClient ? "-->" : "   ";
                string ack = (p.Flags & Synack.Wire.TcpFlags.Ack) != 0 ? $"{p.Ack} ({p.AckRaw})" : "-";
                sb.AppendLine(Inv, $"  {p.Frame,6} {p.Time,10:F6}  {Name(p.ClientState),-18} {dirL}{p.FlagText,-5} {$"{p.Seq} ({p.SeqRaw})",-18} {ack,-18} {p.Length,6} {p.Window,8} {dirR} {Name(p.ServerState),-18} {string.Join(",", p.Findings)}");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    private static string Options(SideOptions? o) => o is null ? "(no SYN seen)" :
        $"mss {o.Mss?.ToString(Inv) ?? "-"}, wscale {o.WindowScale?.ToString(Inv) ?? "-"}, sack {(o.SackPermitted ? "yes" : "no")}, ts {(o.Timestamps ? "yes" : "no")}";

    public static string Json(IReadOnlyList<Conversation> conversations)
    {
        var arr = new JsonArray();
        foreach (var c in conversations)
        {
            var packets = new JsonArray();
            foreach (var p in c.Packets)
            {
                packets.Add(new JsonObject
                {
                    ["frame"] = p.Frame,
                    ["time"] = p.Time,
                    ["from"] = p.FromClient ? "client" : "server",
                    ["flags"] = p.FlagText,
                    ["seq"] = p.Seq,
                    ["ack"] = p.Ack,
                    ["seqRaw"] = p.SeqRaw,
                    ["ackRaw"] = p.AckRaw,
                    ["len"] = p.Length,
                    ["window"] = p.Window,
                    ["findings"] = new JsonArray(p.Findings.Select(f => (JsonNode)f).ToArray()),
                    ["clientState"] = Name(p.ClientState),
                    ["serverState"] = Name(p.ServerState),
                    ["comment"] = p.Comment,
                });
            }
            arr.Add(new JsonObject
            {
                ["stream"] = c.Stream,
                ["client"] = c.Client,
                ["server"] = c.Server,
                ["clientIsn"] = c.ClientIsn,
                ["serverIsn"] = c.ServerIsn,
                ["options"] = new JsonObject { ["client"] = OptionsJson(c.ClientOptions), ["server"] = OptionsJson(c.ServerOptions) },
                ["closeKind"] = c.CloseKind,
                ["connState"] = c.ConnState,
                ["history"] = c.History,
                ["bytes"] = new JsonObject { ["client"] = c.ClientBytes, ["server"] = c.ServerBytes },
                ["handshakeRttMs"] = c.HandshakeRttMs,
                ["packets"] = packets,
            });
        }
        return new JsonObject { ["connections"] = arr }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static JsonObject? OptionsJson(SideOptions? o) => o is null ? null : new JsonObject
    {
        ["mss"] = o.Mss,
        ["wscale"] = o.WindowScale,
        ["sackPermitted"] = o.SackPermitted,
        ["timestamps"] = o.Timestamps,
    };
}
