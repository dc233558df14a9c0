using System.Globalization;
using Synack.Scenarios;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>
/// The sentence beside each event, in the study note's terms: why a segment carries the numbers it
/// does (an ACK number is the next byte expected: the peer's last sequence number plus its length,
/// plus one for a SYN or a FIN), why an endpoint is in its state, and what it waits for now.
/// </summary>
internal sealed class Narrator
{
    private readonly Dictionary<string, SegmentInfo> _lastHeard = []; // per endpoint: the last segment it took in

    public string Tell(TraceEntry e, TcbView? client, TcbView? server) => e.Kind switch
    {
        TraceKind.Sent when e.Segment is { } s => Sent(s, s.From == "client" ? client : server),
        TraceKind.Delivered when e.Segment is { } s => Delivered(e.Endpoint, s),
        TraceKind.Dropped when e.Segment is { } s => $"The link loses this {Name(s)} from the {s.From}: the {s.To} never sees it, and the {s.From} finds out only when its retransmission timer fires.",
        TraceKind.Duplicated when e.Segment is { } s => $"The link delivers a second copy of this {Name(s)}: the {s.To} must recognise it by its sequence number.",
        TraceKind.StateChanged => $"The {e.Endpoint} moves from {e.From.ToRfcName()} to {e.To.ToRfcName()} ({e.Text}). {Waits(e.To)}",
        TraceKind.TimerFired => $"The {e.Endpoint}'s {e.Text} timer fires.",
        TraceKind.UserCall when e.Endpoint == "link" => $"The link: {e.Text}.",
        TraceKind.UserCall => $"The {e.Endpoint}'s application: {e.Text}.",
        _ => e.Text.Length > 0 ? $"{e.Endpoint}: {e.Text}" : "",
    };

    private string Delivered(string endpoint, SegmentInfo s)
    {
        _lastHeard[endpoint] = s;
        return $"The {Name(s)} reaches the {endpoint}.";
    }

    private string Sent(SegmentInfo s, TcbView? sender)
    {
        var parts = new List<string>();
        uint next = s.Seq.Value + (uint)s.Length + (s.Has(TcpFlags.Syn) ? 1u : 0) + (s.Has(TcpFlags.Fin) ? 1u : 0);
        if (s.Has(TcpFlags.Rst))
        {
            parts.Add($"The {s.From} resets the connection: RST with seq {s.Seq.Value}, which the {s.To} accepts only if it falls in its window.");
        }
        else if (s.Has(TcpFlags.Syn))
        {
            parts.Add(sender is { } t && t.Iss == s.Seq.Value
                ? $"The {s.From} sends its SYN with seq = its ISN, {s.Seq.Value} (relative 0)."
                : $"A SYN with seq {s.Seq.Value}.");
            parts.Add($"A SYN takes one sequence number, so the {s.To} will acknowledge {next}.");
        }
        else if (s.Length > 0)
        {
            parts.Add($"The {s.From} sends {s.Length} byte{(s.Length == 1 ? "" : "s")} from seq {s.Seq.Value}: the {s.To} will acknowledge {s.Seq.Value} + {s.Length} = {next}.");
        }
        else if (!s.Has(TcpFlags.Fin))
        {
            parts.Add($"A bare ACK: it carries no data and takes no sequence number (seq {s.Seq.Value} stays the {s.From}'s next).");
        }
        if (s.Has(TcpFlags.Fin))
        {
            parts.Add($"FIN: the {s.From} has no more to send. The FIN takes one sequence number, so its ACK will be {next}.");
        }
        if (s.Has(TcpFlags.Ack)) parts.Add(AckReason(s));
        return string.Join(" ", parts);
    }

    private string AckReason(SegmentInfo s)
    {
        if (!_lastHeard.TryGetValue(s.From, out var heard))
            return $"ack = {s.Ack.Value}: the next byte the {s.From} expects from the {s.To}.";
        uint end = heard.Seq.Value + (uint)heard.Length;
        var sum = new List<string> { heard.Seq.Value.ToString(CultureInfo.InvariantCulture) };
        if (heard.Length > 0) sum.Add($"{heard.Length} bytes");
        if (heard.Has(TcpFlags.Syn)) { sum.Add("1 for the SYN"); end++; }
        if (heard.Has(TcpFlags.Fin)) { sum.Add("1 for the FIN"); end++; }
        if (end == s.Ack.Value && sum.Count > 1)
            return $"ack = {s.Ack.Value}: the {s.To}'s last segment's seq {string.Join(" + ", sum)}: every byte before it has arrived.";
        if (end == s.Ack.Value)
            return $"ack = {s.Ack.Value}, as before: the {s.To}'s last segment (seq {heard.Seq.Value}) carried no data, no SYN and no FIN, so it moved nothing.";
        return $"ack = {s.Ack.Value}: the next byte the {s.From} expects; everything before it has arrived.";
    }

    private static string Name(SegmentInfo s)
    {
        string flags = s.Flags.ToShortString();
        if (s.Has(TcpFlags.Syn | TcpFlags.Ack)) return "SYN-ACK";
        if (s.Has(TcpFlags.Syn)) return "SYN";
        if (s.Has(TcpFlags.Rst)) return "RST";
        if (s.Has(TcpFlags.Fin)) return s.Length > 0 ? "data segment with FIN" : (s.Has(TcpFlags.Ack) ? "FIN+ACK" : "FIN");
        return s.Length > 0 ? $"data segment ({s.Length} bytes)" : $"ACK ({flags})";
    }

    /// <summary>What an endpoint in <paramref name="state"/> is waiting for.</summary>
    public static string Waits(TcpState state) => state switch
    {
        TcpState.Listen => "It waits for a SYN.",
        TcpState.SynSent => "It waits for the peer's SYN-ACK (or a SYN: a simultaneous open).",
        TcpState.SynReceived => "It waits for the ACK of its SYN: the third segment.",
        TcpState.Established => "Data may flow both ways; it waits for data, or a FIN.",
        TcpState.FinWait1 => "It waits for the ACK of its FIN (or the peer's FIN first).",
        TcpState.FinWait2 => "Its FIN is acknowledged; it waits for the peer's FIN.",
        TcpState.CloseWait => "The peer has finished sending; it waits for its own application to close.",
        TcpState.Closing => "Both FINs crossed; it waits for the ACK of its own FIN.",
        TcpState.LastAck => "It waits for the ACK of its FIN, the last segment of the connection.",
        TcpState.TimeWait => "It waits 2 MSL, so a lost final ACK can be sent again and old duplicates die out before the port pair is reused.",
        TcpState.Closed => "The connection is gone.",
        _ => "",
    };
}
