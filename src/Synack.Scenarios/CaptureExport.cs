using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// Writes a run as pcapng, as a tap on the link would see it: each packet once, when it was sent (so a
/// packet the link lost is in the file, like a capture at the sender). Each endpoint is an interface,
/// its packets marked outbound. Every state change is a packet comment on the packet that caused it:
/// the one whose arrival it followed, or, for a user call or timer, the next packet sent.
/// </summary>
public static class CaptureExport
{
    public static void Write(Trace trace, Stream output)
    {
        var comments = new Dictionary<byte[], List<string>>(ReferenceEqualityComparer.Instance);
        var entries = trace.Entries;
        // Entries come in groups, each opened by what caused them: a delivery, a user call or a timer.
        byte[]? cause = null, firstSent = null;
        List<string> group = [], carried = [];
        void CloseGroup()
        {
            var target = cause ?? firstSent;
            if (target is not null) Comments(comments, target).AddRange(group);
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
                    cause = e.Kind == TraceKind.Delivered ? e.Segment!.Packet : null;
                    firstSent = null;
                    break;
                case TraceKind.Sent:
                    firstSent ??= e.Segment!.Packet;
                    if (carried.Count > 0)
                    {
                        Comments(comments, e.Segment!.Packet).AddRange(carried);
                        carried.Clear();
                    }
                    break;
                case TraceKind.StateChanged:
                    group.Add($"{e.Endpoint}: {e.From.ToRfcName()} -> {e.To.ToRfcName()} ({e.Text})");
                    break;
            }
        }
        CloseGroup();

        using var writer = new PcapNgWriter(output, "synack demo", ownsStream: false);
        var ifaces = new Dictionary<string, int>();
        foreach (var e in entries)
        {
            if (e.Kind != TraceKind.Sent) continue;
            var s = e.Segment!;
            if (!ifaces.TryGetValue(s.From, out int id)) ifaces[s.From] = id = writer.AddInterface(s.From, $"the {s.From} endpoint of the simulated link");
            string? comment = comments.TryGetValue(s.Packet, out var list) ? string.Join("; ", list) : null;
            writer.WritePacket(id, s.Packet, e.Time.Ticks * 100, PacketDirection.Outbound, comment);
        }
        writer.Flush();
    }

    private static List<string> Comments(Dictionary<byte[], List<string>> map, byte[] packet)
    {
        if (!map.TryGetValue(packet, out var list)) map[packet] = list = [];
        return list;
    }
}
