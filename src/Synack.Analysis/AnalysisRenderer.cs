using System.Globalization;
using Synack.Tcp;

namespace Synack.Analysis;

/// <summary>Names shared by the text, JSON and HTML views.</summary>
public static class AnalysisRenderer
{
    internal static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The RFC's spelling of a state, as the stack's traces write it.</summary>
    public static string Name(TcpState s) => s.ToRfcName();

    internal static string Options(SideOptions? o) => o is null ? "(no SYN seen)" :
        $"mss {o.Mss?.ToString(Inv) ?? "-"}, wscale {o.WindowScale?.ToString(Inv) ?? "-"}, sack {(o.SackPermitted ? "yes" : "no")}, ts {(o.Timestamps ? "yes" : "no")}";

    /// <summary>"bad" (the IPv4 header or, when verified, the TCP checksum), "good" (TCP verified), or null (not verified, as Wireshark by default).</summary>
    internal static string? Checksum(PacketView p) => p.IpChecksumBad || p.TcpChecksumGood == false ? "bad" : p.TcpChecksumGood == true ? "good" : null;

    /// <summary>The summary's first line: frames, format, and what they held.</summary>
    internal static string Totals(AnalysisSummary s) =>
        string.Create(Inv, $"{s.Frames} frames ({s.Format}{(s.Compression is null ? "" : ", " + s.Compression)}): {s.TcpFrames} TCP in {s.Conversations.Count} conversations, {s.OtherIpFrames} other IP, {s.NonIpFrames} not IP, {s.FragmentFrames} IP fragments");

    /// <summary>What the summary says was skipped, one phrase per kind: nothing goes unsaid.</summary>
    internal static IEnumerable<string> Skipped(AnalysisSummary s)
    {
        foreach (var (what, n) in s.Unsupported) yield return $"{n} frame{(n == 1 ? "" : "s")} not read ({what})";
        foreach (var (what, n) in s.Malformed) yield return $"{n} malformed frame{(n == 1 ? "" : "s")} ({what})";
        if (s.FragmentsAbandoned > 0) yield return $"{s.FragmentsAbandoned} IP datagram{(s.FragmentsAbandoned == 1 ? "" : "s")} whose fragments never completed";
    }
}
