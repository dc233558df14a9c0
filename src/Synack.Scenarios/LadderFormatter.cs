using System.Globalization;
using System.Text;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// The text ladder: one line per segment (delivered or lost) with time, direction, flags, absolute and
/// relative seq and ack, length, window, options in wire order, and both endpoints' states after it.
/// </summary>
public static class LadderFormatter
{
    /// <summary>The ladder as text: time, direction, flags, absolute and relative seq and ack, length, window, options, states.</summary>
    public static string Format(Trace trace, bool showTimers = true)
    {
        var inv = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.AppendLine(inv, $"{"time ms",10}  {"client",-13} {"",3}{"flags",-5} {"seq (rel)",-22} {"ack (rel)",-22} {"len",5} {"win",6} {"",3} {"server",-13} options");
        foreach (var row in Ladder.Build(trace, includeTimers: showTimers))
        {
            sb.Append(inv, $"{row.Time.TotalMilliseconds,10:F3}  {row.ClientState.ToRfcName(),-13} ");
            var s = row.Segment;
            if (s is null)
            {
                sb.AppendLine(inv, $"{"",3}{"",-5} {row.Note}");
                continue;
            }
            bool toServer = s.From == "client";
            string seq = row.RelativeSeq is uint rs ? $"{s.Seq} ({rs})" : s.Seq.ToString();
            string ack = !s.Has(TcpFlags.Ack) ? "0" : row.RelativeAck is uint ra ? $"{s.Ack} ({ra})" : s.Ack.ToString();
            sb.Append(toServer ? "   " : row.Lost ? "x--" : "<--");
            sb.Append(inv, $"{s.Flags.ToShortString(),-5} {seq,-22} {ack,-22} {s.Length,5} {s.Window,6} ");
            sb.Append(!toServer ? "   " : row.Lost ? "--x" : "-->");
            sb.Append(inv, $" {row.ServerState.ToRfcName(),-13} {TcpOptionText.Describe(s.Packet)}");
            if (row.Lost) sb.Append(inv, $"  [lost: {row.Note}]");
            sb.AppendLine();
        }
        return sb.ToString();
    }
}
