using Synack.Scenarios;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>S1: sequence and acknowledgment numbers, with the numbers of docs/scenarios.md.</summary>
public class SequenceNumberTests
{
    internal static string Row(SegmentInfo s) =>
        $"{s.From} {s.Flags.ToShortString()} seq={s.Seq} ack={(s.Has(TcpFlags.Ack) ? s.Ack.ToString() : "0")} len={s.Length}";

    internal static string[] Rows(BareRun sim) => sim.Trace.Delivered().Select(Row).ToArray();

    [Fact]
    public void The_notes_small_example_each_side_sends_100_bytes()
    {
        var sim = ScenarioCatalog.HandshakeDataClose();
        Assert.Equal(
        [
            "client S seq=123456 ack=0 len=0",
            "server SA seq=234567 ack=123457 len=0",
            "client . seq=123457 ack=234568 len=0",
            "client PA seq=123457 ack=234568 len=100",   // client data seq=123457 len=100
            "server . seq=234568 ack=123557 len=0",      // server acks 123557
            "server PA seq=234568 ack=123557 len=100",   // server data seq=234568 len=100
            "client . seq=123557 ack=234668 len=0",      // client acks 234668
            "client FA seq=123557 ack=234668 len=0",
            "server . seq=234668 ack=123558 len=0",      // the FIN took one sequence number
            "server FA seq=234668 ack=123558 len=0",
            "client . seq=123558 ack=234669 len=0",
        ], Rows(sim));
    }

    [Fact]
    public void The_notes_nine_steps_with_k_120_and_b_100_200_300_400()
    {
        const uint s1 = ScenarioCatalog.ClientIsn, s2 = ScenarioCatalog.ServerIsn;
        const uint k = 120, b1 = 100, b2 = 200, b3 = 300, b4 = 400;
        var sim = ScenarioCatalog.SequenceNumbers();
        Assert.Equal(
        [
            $"client S seq={s1} ack=0 len=0",                                          // 1
            $"server SA seq={s2} ack={s1 + 1} len=0",                                   // 2
            $"client . seq={s1 + 1} ack={s2 + 1} len=0",                                // 3
            $"client PA seq={s1 + 1} ack={s2 + 1} len={k}",                             // 4: same seq and ack as 3
            $"server PA seq={s2 + 1} ack={s1 + k + 1} len={b1}",                        // 5
            $"server PA seq={s2 + b1 + 1} ack={s1 + k + 1} len={b2}",                   // 6
            $"server PA seq={s2 + b1 + b2 + 1} ack={s1 + k + 1} len={b3}",              // 7
            $"server PA seq={s2 + b1 + b2 + b3 + 1} ack={s1 + k + 1} len={b4}",         // 8
            $"client . seq={s1 + k + 1} ack={s2 + b1 + b2 + b3 + b4 + 1} len=0",        // 9: one ACK for all four
        ], Rows(sim));
    }

    [Fact]
    public void Syn_and_fin_each_consume_one_sequence_number_and_each_side_counts_its_own()
    {
        var sim = ScenarioCatalog.HandshakeDataClose();
        var c = sim.Client.Connection!;
        var s = sim.Server.Connection!;
        // Each side's final SND.NXT = ISN + SYN + 100 data bytes + FIN.
        Assert.Equal(new SeqNum(ScenarioCatalog.ClientIsn + 1 + 100 + 1), c.SndNxt);
        Assert.Equal(new SeqNum(ScenarioCatalog.ServerIsn + 1 + 100 + 1), s.SndNxt);
        Assert.Equal(c.SndNxt, s.RcvNxt);
        Assert.Equal(s.SndNxt, c.RcvNxt);
    }

    [Fact]
    public void The_ladder_shows_absolute_and_relative_numbers()
    {
        var ladder = LadderFormatter.Format(ScenarioCatalog.HandshakeDataClose().Trace);
        Assert.Contains("123456 (0)", ladder);
        Assert.Contains("234567 (0)", ladder);
        Assert.Contains("123557 (101)", ladder);
        Assert.Contains("234668 (101)", ladder);
    }

    [Fact]
    public void Sequence_numbers_wrap_around_two_to_the_32()
    {
        // ISNs just below 2^32: the data crosses the wrap on both sides.
        var sim = new BareRun(ScenarioCatalog.NoteOptions, ScenarioCatalog.NoteOptions,
            new FixedIsnGenerator(uint.MaxValue - 50), new FixedIsnGenerator(uint.MaxValue - 1));
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(50));
        var payload = Enumerable.Range(0, 5000).Select(i => (byte)(i * 7)).ToArray();
        sim.Client.Send(payload);
        sim.Server.Send(payload);
        sim.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(payload, sim.Server.ReceivedBytes);
        Assert.Equal(payload, sim.Client.ReceivedBytes);
        Assert.Equal(new SeqNum(unchecked(uint.MaxValue - 50 + 1 + 5000)), sim.Client.Connection!.SndUna);
    }
}
