using System.Security.Cryptography;
using Synack.Scenarios;

namespace Synack.Tcp.Tests;

/// <summary>The simple data path must be correct under loss, reordering, duplication and corruption.</summary>
public class DataTransferTests
{
    private static byte[] Bytes(int n, int seed)
    {
        var b = new byte[n];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static BareRun Transfer(int size, Action<BareRun, Random> impair, int seed, ConnectionOptions? opts = null)
    {
        var sim = new BareRun(opts, opts);
        var rng = new Random(seed);
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        impair(sim, rng);
        var up = Bytes(size, seed);
        var down = Bytes(size, seed + 1);
        int sentUp = 0, sentDown = 0;
        sim.Client.OnEvent = (ep, e) => { if (e == ConnectionEvent.SendSpaceAvailable) sentUp += ep.Send(up.AsSpan(sentUp)); };
        sim.Server.OnEvent = (ep, e) => { if (e == ConnectionEvent.SendSpaceAvailable) sentDown += ep.Send(down.AsSpan(sentDown)); };
        sentUp += sim.Client.Send(up);
        sentDown += sim.Server.Send(down);
        bool done = sim.RunUntil(() => sim.Server.ReceivedCount == size && sim.Client.ReceivedCount == size, TimeSpan.FromMinutes(30));
        Assert.True(done, $"transfer stalled: server has {sim.Server.ReceivedBytes.Length}, client has {sim.Client.ReceivedBytes.Length} of {size}");
        Assert.Equal(SHA256.HashData(up), SHA256.HashData(sim.Server.ReceivedBytes));
        Assert.Equal(SHA256.HashData(down), SHA256.HashData(sim.Client.ReceivedBytes));
        sim.Client.Close();
        sim.Server.CloseOnEndOfStream = true;
        sim.RunUntilIdle(TimeSpan.FromMinutes(30));
        Assert.Equal(TcpState.Closed, sim.Client.State);
        Assert.Equal(TcpState.Closed, sim.Server.State);
        return sim;
    }

    [Fact]
    public void A_megabyte_each_way_on_a_clean_link()
    {
        var sim = Transfer(1 << 20, (_, _) => { }, seed: 1);
        Assert.DoesNotContain(sim.Trace.Entries, e => e.Kind == TraceKind.TimerFired && e.Text == nameof(TcpTimer.Retransmission));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_lossy_link_loses_no_byte(int seed)
    {
        var sim = Transfer(256 * 1024, (s, rng) => s.Link.Drop(_ => rng.NextDouble() < 0.03, int.MaxValue), seed);
        Assert.Contains(sim.Trace.Entries, e => e.Kind == TraceKind.Dropped);
    }

    [Fact]
    public void Reordered_duplicated_and_corrupted_segments_lose_no_byte()
    {
        var sim = Transfer(256 * 1024, (s, rng) =>
        {
            s.Link.Duplicate(_ => rng.NextDouble() < 0.02, int.MaxValue);
            s.Link.Corrupt(_ => rng.NextDouble() < 0.02, int.MaxValue);
            s.Link.Delay(_ => rng.NextDouble() < 0.03, TimeSpan.FromMilliseconds(15), int.MaxValue);
        }, seed: 5);
        Assert.Contains(sim.Trace.Entries, e => e.Kind == TraceKind.Rejected && e.Text.Contains("checksum"));
        Assert.Contains(sim.Trace.Entries, e => e.Kind == TraceKind.Duplicated);
    }

    [Fact]
    public void Timestamps_and_window_scaling_carry_a_transfer_larger_than_64k_windows()
    {
        var opts = new ConnectionOptions { ReceiveBufferSize = 1 << 20, SendBufferSize = 1 << 20 };
        var sim = Transfer(2 << 20, (_, _) => { }, seed: 6, opts);
        Assert.True(sim.Client.Connection!.TimestampsNegotiated);
        Assert.Equal(7, sim.Client.Connection!.ReceiveWindowShift); // covers the 6 MiB the buffer may grow to
        Assert.Contains(sim.Trace.Delivered(), s => (uint)s.Window << 7 > 65535);
    }

    [Fact]
    public void A_slow_reader_closes_the_window_and_the_sender_probes_until_it_opens()
    {
        var opts = ScenarioCatalog.NoteOptions with { ReceiveBufferSize = 4096 };
        var sim = ScenarioCatalog.ConnectedNotePair(server: opts);
        sim.Server.AutoRead = false;
        sim.Client.Send(20_000);
        sim.RunFor(TimeSpan.FromSeconds(20));
        Assert.Equal(4096, sim.Server.Connection!.ReceiveQueued); // the buffer is full, the window zero
        Assert.Equal(0u, sim.Client.Connection!.SndWnd);
        var probes = sim.Trace.Entries.Where(e => e.Kind == TraceKind.TimerFired && e.Endpoint == "client" && e.Text == nameof(TcpTimer.Persist)).ToArray();
        Assert.True(probes.Length >= 3, $"{probes.Length} window probes");
        Assert.Equal(TcpState.Established, sim.Client.State); // an answered probe keeps the connection
        // The application reads: the window opens and the rest flows.
        sim.Server.AutoRead = true;
        sim.Server.Read();
        sim.RunFor(TimeSpan.FromMinutes(3));
        Assert.Equal(20_000, sim.Server.ReceivedBytes.Length);
    }

    [Fact]
    public void Unanswered_zero_window_probes_time_the_connection_out()
    {
        var sim = ScenarioCatalog.ConnectedNotePair(client: ScenarioCatalog.NoteOptions with { DataRetries = 5 }, server: ScenarioCatalog.NoteOptions with { ReceiveBufferSize = 1024 });
        sim.Server.AutoRead = false;
        sim.Client.Send(5000);
        sim.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(0u, sim.Client.Connection!.SndWnd);
        sim.Link.Up = false; // the peer that advertised the zero window vanishes
        sim.RunUntilIdle(TimeSpan.FromHours(1));
        Assert.Equal(TcpError.TimedOut, sim.Client.LastError);
        Assert.Equal(5, sim.Trace.Entries.Count(e => e.Kind == TraceKind.Dropped && e.Segment!.IsPureAck && e.Endpoint == "client"));
    }

    [Fact]
    public void Data_retransmissions_run_out_and_the_connection_times_out()
    {
        var opts = ScenarioCatalog.NoteOptions with { DataRetries = 4 };
        var sim = ScenarioCatalog.ConnectedNotePair(client: opts);
        sim.Link.Up = false;
        sim.Client.Send(100);
        sim.RunUntilIdle(TimeSpan.FromHours(1));
        Assert.Equal(TcpError.TimedOut, sim.Client.LastError);
        var sends = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.Length == 100).Select(e => e.Time).ToArray();
        Assert.Equal(5, sends.Length); // the first and four retries
        var gaps = sends.Zip(sends.Skip(1), (a, b) => b - a).ToArray();
        for (int i = 1; i < gaps.Length; i++) Assert.Equal(gaps[i - 1] * 2, gaps[i]); // exponential backoff
    }

    [Fact]
    public void A_lost_data_segment_is_retransmitted_from_snd_una()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Link.Drop(s => s.From == "client" && s.Length > 0, times: 1);
        sim.Client.Send(3000);
        sim.RunFor(TimeSpan.FromSeconds(3));
        Assert.Equal(3000, sim.Server.ReceivedBytes.Length);
        var data = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.Length > 0).Select(e => e.Segment!.Seq.Value - ScenarioCatalog.ClientIsn).ToArray();
        Assert.Equal(1u, data[0]);
        Assert.Contains(data.Skip(1), s => s == 1u); // the lost first segment went again
    }

    [Fact]
    public void A_lost_segment_mid_transfer_is_resent_after_three_duplicate_acks_not_a_timeout()
    {
        var sim = ScenarioCatalog.ConnectedNotePair(client: ScenarioCatalog.NoteOptions with { Timestamps = false }, server: ScenarioCatalog.NoteOptions with { Timestamps = false });
        int lostSeq = 1 + 5 * 1460; // the sixth full segment
        sim.Link.Drop(s => s.From == "client" && s.Length > 0 && s.Seq.Value - ScenarioCatalog.ClientIsn == (uint)lostSeq, times: 1);
        sim.Client.Send(40 * 1460);
        Assert.True(sim.RunUntil(() => sim.Server.ReceivedCount == 40 * 1460, TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(sim.Trace.Entries, e => e.Kind == TraceKind.TimerFired && e.Endpoint == "client" && e.Text == nameof(TcpTimer.Retransmission));
        var sends = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.Length > 0 && e.Segment.Seq.Value - ScenarioCatalog.ClientIsn == (uint)lostSeq).ToArray();
        Assert.Equal(2, sends.Length);
        // The duplicate ACKs carry SACK blocks above the hole, and the resend follows the third one within a round trip.
        var dupAcks = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Delivered && e.Segment!.From == "server" && e.Segment.Length == 0
            && e.Segment.Ack.Value - ScenarioCatalog.ClientIsn == (uint)lostSeq && e.Time <= sends[1].Time).ToArray();
        Assert.True(dupAcks.Length >= 3, $"{dupAcks.Length} duplicate ACKs before the resend");
        Assert.True(sends[1].Time - dupAcks[2].Time < TimeSpan.FromMilliseconds(1));
        Assert.Equal(Enumerable.Range(0, 40 * 1460).Select(i => (byte)('x' + i % 26)), sim.Server.ReceivedBytes);
    }

    [Fact]
    public void With_sack_several_holes_in_one_window_are_all_resent_in_one_recovery()
    {
        var sim = ScenarioCatalog.ConnectedNotePair(client: ScenarioCatalog.NoteOptions with { Timestamps = false }, server: ScenarioCatalog.NoteOptions with { Timestamps = false });
        var lost = new HashSet<uint> { 1 + 3 * 1460, 1 + 7 * 1460, 1 + 11 * 1460 };
        foreach (var l in lost) sim.Link.Drop(s => s.From == "client" && s.Length > 0 && s.Seq.Value - ScenarioCatalog.ClientIsn == l, times: 1);
        sim.Client.Send(60 * 1460);
        Assert.True(sim.RunUntil(() => sim.Server.ReceivedCount == 60 * 1460, TimeSpan.FromSeconds(30)));
        Assert.DoesNotContain(sim.Trace.Entries, e => e.Kind == TraceKind.TimerFired && e.Endpoint == "client" && e.Text == nameof(TcpTimer.Retransmission));
        var resent = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.Length > 0)
            .GroupBy(e => e.Segment!.Seq.Value - ScenarioCatalog.ClientIsn).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet();
        Assert.Equal(lost, resent); // exactly the lost ones, nothing that arrived
    }

    [Fact]
    public void Without_fast_retransmit_the_same_loss_waits_for_the_timer()
    {
        var opts = ScenarioCatalog.NoteOptions with { Timestamps = false, FastRetransmit = false };
        var sim = ScenarioCatalog.ConnectedNotePair(client: opts, server: opts);
        sim.Link.Drop(s => s.From == "client" && s.Length > 0 && s.Seq.Value - ScenarioCatalog.ClientIsn == 1 + 5 * 1460, times: 1);
        sim.Client.Send(40 * 1460);
        Assert.True(sim.RunUntil(() => sim.Server.ReceivedCount == 40 * 1460, TimeSpan.FromSeconds(30)));
        Assert.Contains(sim.Trace.Entries, e => e.Kind == TraceKind.TimerFired && e.Endpoint == "client" && e.Text == nameof(TcpTimer.Retransmission));
    }

    [Theory]
    [InlineData(true, 0)]    // Minshall (Linux): the tail goes with the rest
    [InlineData(false, 1)]   // classic Nagle (BSD): the tail waits for an ACK
    public void The_tail_of_a_bulk_write_waits_only_under_classic_nagle(bool minshall, int heldTails)
    {
        var opts = ScenarioCatalog.NoteOptions with { Nagle = true, NagleMinshall = minshall };
        var sim = ScenarioCatalog.ConnectedNotePair(client: opts);
        var start = sim.Clock;
        sim.Client.Send(3 * 1460 + 100);
        sim.RunFor(TimeSpan.FromSeconds(1));
        var sends = sim.Trace.Entries.Where(e => e.Kind == TraceKind.Sent && e.Endpoint == "client" && e.Segment!.Length > 0).ToArray();
        Assert.Equal([1460, 1460, 1460, 100], sends.Select(e => e.Segment!.Length));
        Assert.Equal(heldTails, sends.Count(e => e.Time > start));
        Assert.Equal(3 * 1460 + 100, sim.Server.ReceivedCount);
    }

    [Fact]
    public void Nagle_holds_small_segments_while_data_is_unacknowledged()
    {
        var sim = ScenarioCatalog.ConnectedNotePair(client: ScenarioCatalog.NoteOptions with { Nagle = true });
        for (int i = 0; i < 5; i++) sim.Client.Send(10);
        sim.RunFor(TimeSpan.FromSeconds(1));
        var sizes = sim.Trace.Delivered().Where(s => s.From == "client" && s.Length > 0).Select(s => s.Length).ToArray();
        Assert.Equal([10, 40], sizes);
    }
}

public class ReorderingTests
{
    [Fact]
    public void A_segment_overtaken_by_the_next_one_gets_a_duplicate_ack_and_arrives_later()
    {
        var sim = ScenarioCatalog.ConnectedNotePair();
        sim.Link.Hold(s => s.From == "client" && s.Length == 100, times: 1);
        sim.Client.Send(100);
        sim.Client.Send(200);
        sim.RunFor(TimeSpan.FromMilliseconds(20));
        sim.Link.ReleaseHeld();
        sim.RunFor(TimeSpan.FromSeconds(2));
        var rows = Ladder.Build(sim.Trace, includeCalls: false, includeTimers: false).Skip(3).Select(r => r.ToString()).ToArray();
        Assert.Equal("client PA seq=1 ack=1 len=100 LOST -> ESTABLISHED/ESTABLISHED", rows[0]); // held back
        Assert.Equal("client PA seq=101 ack=1 len=200 -> ESTABLISHED/ESTABLISHED", rows[1]);    // arrives first
        Assert.Equal("server . seq=1 ack=1 len=0 -> ESTABLISHED/ESTABLISHED", rows[2]);           // duplicate ACK at once
        Assert.Equal("client PA seq=1 ack=1 len=100 -> ESTABLISHED/ESTABLISHED", rows[3]);      // the held one
        Assert.Equal(300, sim.Server.ReceivedCount);                                              // reassembled with the one held
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (byte)('x' + i % 26)).Concat(Enumerable.Range(0, 200).Select(i => (byte)('x' + i % 26))), sim.Server.ReceivedBytes);
    }
}
