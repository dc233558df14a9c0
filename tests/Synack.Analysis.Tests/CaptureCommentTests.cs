using System.Text.RegularExpressions;
using Synack.Scenarios;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Analysis.Tests;

/// <summary>
/// Every state change of every scenario is a comment in its capture, on the packet that caused it —
/// arrivals and timers as well as user calls — and reads back from the file. (Before, only the
/// transitions a user call caused were there: the arrival's copy was never matched to the packet sent.)
/// </summary>
public sealed partial class CaptureCommentTests
{
    public static TheoryData<string, bool> Runs()
    {
        var data = new TheoryData<string, bool>();
        foreach (var s in ScenarioCatalog.All)
        {
            data.Add(s.Name, false);
            data.Add(s.Name, true);
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Runs))]
    public void Every_transition_of_the_scenario_is_commented_in_its_capture(string name, bool onStacks)
    {
        var scenario = ScenarioCatalog.Find(name)!;
        ScenarioRun run = onStacks ? scenario.RunOnStacks() : scenario.RunBare();
        var expected = run.Trace.Entries
            .Where(e => e.Kind == TraceKind.StateChanged)
            .Select(e => $"{e.Endpoint}: {e.From.ToRfcName()} -> {e.To.ToRfcName()} ({e.Text})")
            .Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(expected);

        using var ms = new MemoryStream();
        CaptureExport.Write(run.Trace, ms);
        var file = Path.Combine(Path.GetTempPath(), $"synack-comments-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(file, ms.ToArray());
            var read = CaptureReader.Read(file);
            Assert.Null(read.Error);
            var found = read.Packets
                .Where(p => p.Comment is not null)
                .SelectMany(p => p.Comment!.Split("; "))
                .Select(c => AfterTheLastPacket().Replace(c, ""))
                .Order(StringComparer.Ordinal).ToList();
            Assert.Equal(expected, found);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public void An_arrival_comments_the_packet_that_arrived_and_a_late_timer_the_last_packet()
    {
        using var ms = new MemoryStream();
        CaptureExport.Write(ScenarioCatalog.HandshakeDataClose().Trace, ms);
        var file = Path.Combine(Path.GetTempPath(), $"synack-comments-{Guid.NewGuid():N}.pcapng");
        try
        {
            File.WriteAllBytes(file, ms.ToArray());
            var packets = CaptureReader.Read(file).Packets;
            Assert.Contains("server: LISTEN -> SYN-RECEIVED (rcv SYN)", packets[0].Comment); // the SYN
            Assert.Equal("client: SYN-SENT -> ESTABLISHED (rcv SYN-ACK)", packets[1].Comment);
            Assert.Matches(@"after the last packet, at 60\.\d{3} s: client: TIME-WAIT -> CLOSED \(2MSL timeout\)$", packets[^1].Comment);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [GeneratedRegex(@"^after the last packet, at [0-9.]+ s: ")]
    private static partial Regex AfterTheLastPacket();
}
