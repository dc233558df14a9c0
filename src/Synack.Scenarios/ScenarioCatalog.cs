using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>The scenarios of connection management (docs/scenarios.md) on two endpoints and a simulated link.</summary>
public static class ScenarioCatalog
{
    /// <summary>The scenarios' ISNs (S1): client 123456, server 234567.</summary>
    public const uint ClientIsn = 123456;
    /// <summary>The server's ISN in the scenarios.</summary>
    public const uint ServerIsn = 234567;

    /// <summary>
    /// The scenarios' endpoints: no timestamps, SYN options mss, nop, wscale, nop, nop, sackOK, so the SYN's
    /// header is 32 bytes as in its figure; Nagle off so each send is its own segment.
    /// </summary>
    public static ConnectionOptions NoteOptions { get; } = new()
    {
        SynOptionLayout = TcpOptionLayout.StudyNote,
        Timestamps = false,
        Nagle = false,
        // The note teaches the retransmission timer; Linux's tail loss probe would answer its lost segments first.
        TailLossProbe = false,
        // The note teaches the delayed ACK that rides on the reply; Linux's quickack would ACK a request at once.
        QuickAcks = 0,
        // RFC 6298's RTO, the one textbook timer figures follow (Linux adds its 200 ms floor to the variance).
        MinRtoOnVariance = false,
        // The note's windows are the buffers it sets (and its SYN's wscale 3 from 256 KiB): no autotuning.
        ReceiveBufferMax = null,
        SendBufferMax = null,
    };

    /// <summary>Keep-alive for the S8 demo: 10 s idle, probes 2 s apart, three of them.</summary>
    public static ConnectionOptions KeepAliveOptions { get; } = NoteOptions with
    {
        KeepAlive = true,
        KeepAliveIdle = TimeSpan.FromSeconds(10),
        KeepAliveInterval = TimeSpan.FromSeconds(2),
        KeepAliveCount = 3,
    };

    /// <summary>Every scenario, in the order docs/scenarios.md tells them.</summary>
    public static IReadOnlyList<Scenario> All { get; } =
    [
        new("handshake-data-close", "S1 S2 S5", "three-way handshake, 100 bytes each way (ISNs 123456/234567), four-way close", HandshakeDataCloseBody),
        new("sequence-numbers", "S1", "the note's nine steps: request of k bytes, four response segments, one ACK", SequenceNumbersBody),
        new("simultaneous-close", "S6", "both sides close at once: FIN-WAIT-1 -> CLOSING -> TIME-WAIT on each", SimultaneousCloseBody),
        new("combined-fin", "S9", "the server closes on end of stream: FIN+ACK in one segment, client FIN-WAIT-1 -> TIME-WAIT", CombinedFinBody),
        new("lost-third-ack", "S4", "the client's ACKs are lost: SYN-ACK retried with backoff, then RST and the half-open connection freed", LostThirdAckBody),
        new("old-duplicate-syn", "S3", "an old SYN reaches the server during a new connect: RST, back to LISTEN, then the real handshake", OldDuplicateSynBody),
        new("lost-final-ack", "S7", "the last ACK is lost: FIN retransmitted, acked again from TIME-WAIT, 2MSL restarted", LostFinalAckBody),
        new("keepalive-dead-peer", "S8", "keep-alive probes (seq = SND.NXT-1) answered, then the link is cut: timeout after the probe count", KeepAliveDeadPeerBody, KeepAliveOptions),
        new("half-close", "S5", "the client shuts down its sending side; the server keeps sending in CLOSE-WAIT, then closes", HalfCloseBody),
    ];

    /// <summary>The scenario named <paramref name="name"/> (case-insensitive), or null.</summary>
    public static Scenario? Find(string name)
    {
        foreach (var s in All)
        {
            if (string.Equals(s.Name, name, StringComparison.OrdinalIgnoreCase)) return s;
        }
        return null;
    }

    /// <summary>A client and a server with the scenarios' ISNs and options, on a fresh link, before any call.</summary>
    public static BareRun NewNotePair(ConnectionOptions? client = null, ConnectionOptions? server = null, LinkConditions? link = null) =>
        new(client ?? NoteOptions, server ?? NoteOptions, new FixedIsnGenerator(ClientIsn), new FixedIsnGenerator(ServerIsn), link);

    /// <summary>The scenarios' pair with the handshake done: both ESTABLISHED.</summary>
    public static BareRun ConnectedNotePair(ConnectionOptions? client = null, ConnectionOptions? server = null) =>
        Established(NewNotePair(client, server));

    /// <summary>Listen, connect, and run until both sides are ESTABLISHED.</summary>
    public static BareRun Established(BareRun sim)
    {
        Establish(sim);
        return sim;
    }

    private static void Establish(ScenarioRun sim)
    {
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunUntil(() => sim.Client.State == TcpState.Established && sim.Server.State == TcpState.Established, TimeSpan.FromSeconds(5));
    }

    /// <summary>Runs S1/S2/S5: handshake, 100 bytes each way, four-way close.</summary>
    public static BareRun HandshakeDataClose() => Harness(HandshakeDataCloseBody);
    /// <summary>Runs S1: the note's nine steps of sequence numbers.</summary>
    public static BareRun SequenceNumbers() => Harness(SequenceNumbersBody);
    /// <summary>Runs S6: both sides close at once (CLOSING).</summary>
    public static BareRun SimultaneousClose() => Harness(SimultaneousCloseBody);
    /// <summary>Runs S9: FIN+ACK in one segment, the three-segment close.</summary>
    public static BareRun CombinedFin() => Harness(CombinedFinBody);
    /// <summary>Runs S4: the third segment of the handshake is lost.</summary>
    public static BareRun LostThirdAck() => Harness(LostThirdAckBody);
    /// <summary>Runs S3: an old duplicate SYN during a new connect.</summary>
    public static BareRun OldDuplicateSyn() => Harness(OldDuplicateSynBody);
    /// <summary>Runs S7: the last ACK is lost and the FIN retransmitted into TIME-WAIT.</summary>
    public static BareRun LostFinalAck() => Harness(LostFinalAckBody);
    /// <summary>Runs S8: keep-alive probes, then a dead peer.</summary>
    public static BareRun KeepAliveDeadPeer() => Harness(KeepAliveDeadPeerBody);
    /// <summary>Runs S5: a half-close, data flowing in CLOSE-WAIT.</summary>
    public static BareRun HalfClose() => Harness(HalfCloseBody);

    private static BareRun Harness(Action<ScenarioRun> body) => Find(NameOf(body))!.RunBare();

    private static string NameOf(Action<ScenarioRun> body)
    {
        foreach (var s in All)
        {
            if (s.Body == body) return s.Name;
        }
        throw new ArgumentException("not a scenario body", nameof(body));
    }

    private static void HandshakeDataCloseBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.Client.Send(100);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Send(100, (byte)'A');
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Close();
        sim.RunFor(TimeSpan.FromMilliseconds(200)); // the server acks the FIN and only later closes
        sim.Server.Close();
        sim.RunUntilIdle();
    }

    /// <summary>k = 120, b1..b4 = 100, 200, 300, 400: small segments, so one delayed ACK covers all four.</summary>
    private static void SequenceNumbersBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.Client.Send(120);
        sim.RunFor(TimeSpan.FromMilliseconds(15)); // the request arrives; its ACK is delayed
        foreach (int b in new[] { 100, 200, 300, 400 }) sim.Server.Send(b, (byte)'A');
        sim.RunFor(TimeSpan.FromMilliseconds(200));
    }

    private static void SimultaneousCloseBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Close();
        sim.Server.Close();
        sim.RunUntilIdle();
    }

    private static void CombinedFinBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.Server.CloseOnEndOfStream = true;
        sim.Client.Send(100);
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Client.Close();
        sim.RunUntilIdle();
    }

    private static void LostThirdAckBody(ScenarioRun sim)
    {
        sim.Link.Drop(s => s.From == "client" && s.IsPureAck, times: int.MaxValue);
        sim.Server.Listen();
        sim.Client.Connect();
        sim.RunUntilIdle(TimeSpan.FromMinutes(5));
    }

    private static void OldDuplicateSynBody(ScenarioRun sim)
    {
        sim.Server.Listen();
        // The client's real SYN is slow; an old SYN of a previous incarnation (seq 90000) gets there first.
        sim.Link.Delay(s => s.From == "client" && s.Is(TcpFlags.Syn), TimeSpan.FromMilliseconds(50));
        sim.Client.Connect();
        sim.Link.Inject(sim.Client, OldSyn(sim, 90000));
        sim.RunUntil(() => sim.Client.State == TcpState.Established && sim.Server.State == TcpState.Established, TimeSpan.FromSeconds(5));
        sim.RunFor(TimeSpan.FromMilliseconds(100));
    }

    /// <summary>A SYN from the client's address and port with an old sequence number, as a delayed duplicate would be.</summary>
    public static byte[] OldSyn(ScenarioRun sim, uint seq)
    {
        var h = new TcpHeader
        {
            SourcePort = sim.Client.Port,
            DestinationPort = sim.Server.Port,
            Seq = new SeqNum(seq),
            Flags = TcpFlags.Syn,
            Window = 65535,
        };
        h.Options.HasMss = true;
        h.Options.Mss = 1460;
        var buf = new byte[TcpPacket.MaxLength(0)];
        int n = TcpPacket.Write(buf, sim.Client.Address, sim.Server.Address, in h, TcpOptionLayout.StudyNote, default);
        return buf[..n];
    }

    private static void LostFinalAckBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.Client.Close();
        sim.RunFor(TimeSpan.FromMilliseconds(200));
        // The client's ACK of the server's FIN is the last segment of the close: lose it once.
        sim.Link.Drop(s => s.From == "client" && s.IsPureAck, times: 1);
        sim.Server.Close();
        sim.RunUntilIdle();
    }

    /// <summary>Runs with <see cref="KeepAliveOptions"/> on the client.</summary>
    private static void KeepAliveDeadPeerBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.RunFor(TimeSpan.FromSeconds(11)); // one probe, answered: the peer is alive
        sim.Link.Up = false;                   // the peer vanishes
        sim.Note("link", "link cut");
        sim.RunUntilIdle(TimeSpan.FromMinutes(1));
    }

    private static void HalfCloseBody(ScenarioRun sim)
    {
        Establish(sim);
        sim.Client.Send(100);
        sim.Client.Shutdown(); // request sent, nothing more to say
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Send(300, (byte)'A'); // the server still answers from CLOSE-WAIT
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Send(300, (byte)'a');
        sim.RunFor(TimeSpan.FromMilliseconds(100));
        sim.Server.Close();
        sim.RunUntilIdle();
    }
}
