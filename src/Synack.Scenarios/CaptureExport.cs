using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// Writes a run as pcapng, as a tap on the link would see it: each packet once, when it was sent (so a
/// packet the link lost is in the file, like a capture at the sender). Each endpoint is an interface,
/// its packets marked outbound. Every state change is a packet comment on the packet that caused it:
/// the one whose arrival it followed, or, for a user call or timer, the next packet sent.
/// </summary>
/// <remarks>
/// The link hands the receiver a copy of what was sent, so an arrival is matched to the packet in the
/// file by its sender and its bytes (the latest such packet sent before it arrived). An earlier version
/// matched by reference, never found the sent packet, and left the transitions an arrival caused
/// uncommented: 3 of the demo's 13.
/// </remarks>
public static class CaptureExport
{
    /// <summary>Writes the run's segments as pcapng, one interface per endpoint, each state change a comment on the packet that caused it.</summary>
    public static void Write(Trace trace, Stream output)
    {
        var comments = new Dictionary<byte[], List<string>>(ReferenceEqualityComparer.Instance);
        var sent = new Dictionary<(string From, ulong Hash), List<byte[]>>();
        var entries = trace.Entries;
        // Entries come in groups, each opened by what caused them: a delivery, a user call or a timer.
        byte[]? cause = null, firstSent = null, lastSent = null;
        List<(string Text, TimeSpan Time)> group = [], carried = [];
        void CloseGroup()
        {
            if (group.Count == 0) return;
            var target = cause ?? firstSent;
            if (target is not null) Comments(comments, target).AddRange(group.Select(g => g.Text));
            else carried.AddRange(group);
            group.Clear();
        }
        foreach (var e in entries)
        {
            switch (e.Kind)
            {
                case TraceKind.Delivered:
                case TraceKind.UserCall:
                case TraceKind.TimerFired:
                    CloseGroup();
                    cause = e.Kind == TraceKind.Delivered ? SentCopyOf(sent, e.Segment!) : null;
                    firstSent = null;
                    break;
                case TraceKind.Sent:
                    firstSent ??= e.Segment!.Packet;
                    lastSent = e.Segment!.Packet;
                    var key = (e.Segment!.From, Hash(e.Segment.Packet));
                    if (!sent.TryGetValue(key, out var same)) sent[key] = same = [];
                    same.Add(e.Segment.Packet);
                    if (carried.Count > 0)
                    {
                        Comments(comments, e.Segment!.Packet).AddRange(carried.Select(c => c.Text));
                        carried.Clear();
                    }
                    break;
                case TraceKind.StateChanged:
                    group.Add(($"{e.Endpoint}: {e.From.ToRfcName()} -> {e.To.ToRfcName()} ({e.Text})", e.Time));
                    break;
            }
        }
        CloseGroup();
        // A timer's transition with no packet after it (TIME-WAIT's end, say) goes on the last packet, with its time.
        if (lastSent is not null)
        {
            foreach (var (text, time) in carried) Comments(comments, lastSent).Add($"after the last packet, at {time.TotalSeconds.ToString("F3", System.Globalization.CultureInfo.InvariantCulture)} s: {text}");
        }

        using var writer = new PcapNgWriter(output, "synack demo", ownsStream: false);
        var ifaces = new Dictionary<string, int>();
        foreach (var e in entries)
        {
            if (e.Kind != TraceKind.Sent) continue;
            var s = e.Segment!;
            if (!ifaces.TryGetValue(s.From, out int id)) ifaces[s.From] = id = writer.AddInterface(s.From, $"the {s.From} endpoint of the simulated link");
            // No option at all for a packet nothing happened on (an empty opt_comment is noise in every viewer).
            string? comment = comments.TryGetValue(s.Packet, out var list) && list.Count > 0 ? string.Join("; ", list) : null;
            writer.WritePacket(id, s.Packet, e.Time.Ticks * 100, PacketDirection.Outbound, comment);
        }
        writer.Flush();
    }

    /// <summary>The packet as it was sent (and is written): the latest one from the same sender with the same bytes; null for one never sent (a corrupted copy).</summary>
    private static byte[]? SentCopyOf(Dictionary<(string From, ulong Hash), List<byte[]>> sent, SegmentInfo arrived)
    {
        if (!sent.TryGetValue((arrived.From, Hash(arrived.Packet)), out var same)) return null;
        for (int i = same.Count - 1; i >= 0; i--)
        {
            if (same[i].AsSpan().SequenceEqual(arrived.Packet)) return same[i];
        }
        return null;
    }

    /// <summary>FNV-1a: the same in every process (the comments' placement must not depend on a per-process hash seed).</summary>
    private static ulong Hash(ReadOnlySpan<byte> bytes)
    {
        ulong h = 14695981039346656037UL;
        foreach (byte b in bytes) h = (h ^ b) * 1099511628211UL;
        return h;
    }

    private static List<string> Comments(Dictionary<byte[], List<string>> map, byte[] packet)
    {
        if (!map.TryGetValue(packet, out var list)) map[packet] = list = [];
        return list;
    }
}
