using System.Globalization;
using Synack.Analysis;
using Synack.Wire;

namespace Synack.Tests.Shared;

/// <summary>Holds our analysis of a capture to tshark's, packet by packet: stream, numbers, length, every finding.</summary>
internal static class TsharkCompare
{
    private static readonly string[] Findings =
    [
        "retransmission", "fast_retransmission", "spurious_retransmission", "out_of_order", "lost_segment", "ack_lost_segment",
        "duplicate_ack", "zero_window", "zero_window_probe", "keep_alive", "keep_alive_ack", "window_update", "window_full",
        "reused_ports",
    ];

    /// <summary>Returns the number of packets compared; throws with the first disagreement.</summary>
    public static int Compare(string tshark, string file, Func<string, string[], string> run)
    {
        var ours = CaptureAnalyzer.Analyze(CaptureReader.Read(file)).SelectMany(c => c.Packets.Select(p => (c.Stream, p))).OrderBy(x => x.p.Frame).ToArray();
        var fields = new List<string> { "-r", file, "-n", "-Y", "tcp", "-T", "fields", "-E", "separator=/t", "-e", "frame.number", "-e", "tcp.stream", "-e", "tcp.seq", "-e", "tcp.ack", "-e", "tcp.len", "-e", "tcp.flags.ack" };
        foreach (var f in Findings) { fields.Add("-e"); fields.Add("tcp.analysis." + f); }
        var rows = run(tshark, [.. fields]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
        if (rows.Length != ours.Length) throw new Xunit.Sdk.XunitException($"tshark sees {rows.Length} TCP packets, we see {ours.Length}");
        for (int i = 0; i < rows.Length; i++)
        {
            var (stream, p) = ours[i];
            var r = rows[i];
            string where = $"frame {r[0]} ({p.FlagText} seq {p.Seq} ack {p.Ack} len {p.Length})";
            Check(r[0] == p.Frame.ToString(CultureInfo.InvariantCulture), where, "frame order");
            Check(r[1] == stream.ToString(CultureInfo.InvariantCulture), where, $"stream: tshark {r[1]}, ours {stream}");
            Check(r[2] == p.Seq.ToString(CultureInfo.InvariantCulture), where, $"seq: tshark {r[2]}, ours {p.Seq}");
            if (r[5] == "1") Check(r[3] == p.Ack.ToString(CultureInfo.InvariantCulture), where, $"ack: tshark {r[3]}, ours {p.Ack}");
            Check(r[4] == p.Length.ToString(CultureInfo.InvariantCulture), where, $"len: tshark {r[4]}, ours {p.Length}");
            for (int f = 0; f < Findings.Length; f++)
            {
                bool theirs = r.Length > 6 + f && r[6 + f] != "";
                bool mine = p.Findings.Contains(Findings[f]);
                // Known difference: whether resent data counts as out-of-order or as a retransmission
                // depends on Wireshark's out-of-order window, which tshark bases on the handshake RTT
                // for some streams and on 3 ms for others. Both name the same event: data sent again.
                if (Findings[f] is "retransmission" or "out_of_order")
                {
                    bool theirsResent = Has(r, "retransmission") || Has(r, "out_of_order");
                    bool mineResent = p.Findings.Contains("retransmission") || p.Findings.Contains("out_of_order");
                    Check(theirsResent == mineResent, where, $"resent data: tshark {(theirsResent ? "yes" : "no")}, ours {(mineResent ? "yes" : "no")}");
                    continue;
                }
                Check(theirs == mine, where, $"{Findings[f]}: tshark {(theirs ? "yes" : "no")}, ours {(mine ? "yes" : "no")} (ours: {string.Join(",", p.Findings)})");
            }
        }
        return rows.Length;
    }

    private static bool Has(string[] row, string finding)
    {
        int i = Array.IndexOf(Findings, finding);
        return row.Length > 6 + i && row[6 + i] != "";
    }

    private static void Check(bool ok, string where, string what)
    {
        if (!ok) throw new Xunit.Sdk.XunitException($"{where}: {what}");
    }
}
