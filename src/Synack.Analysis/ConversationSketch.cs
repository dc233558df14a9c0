using Synack.Tcp;
using Synack.Wire;

namespace Synack.Analysis;

/// <summary>
/// What the HTML report and the sequence diagram draw of one conversation, gathered packet by packet
/// within fixed bounds: the first packets for the ladder, and for the graphs each direction's segments,
/// ACKs, SACK blocks, round-trip samples and windows thinned evenly (<see cref="ThinningList{T}"/>),
/// bytes per time bucket, and the inferred states where they change. A conversation of a million
/// packets costs what one of ten thousand does.
/// </summary>
internal sealed class ConversationSketch(Conversation conversation)
{
    public const int LadderRows = 400;
    /// <summary>Points each list of a graph keeps: more than a 900-pixel plot can tell apart.</summary>
    public const int Marks = 4096;
    /// <summary>State changes drawn; a conversation that changes state more often than this shows its first ones.</summary>
    public const int MaxStateChanges = 10_000;

    private DirectionSketch? _fromClient, _fromServer;
    private TcpState _lastClient = (TcpState)(-1), _lastServer = (TcpState)(-1);

    public Conversation Conversation { get; } = conversation;
    public List<PacketView> Ladder { get; } = [];
    public long PacketCount { get; private set; }
    public double T0 { get; private set; }
    public double T1 { get; private set; }
    /// <summary>Where the states change: (time, client's state, server's state) from then on.</summary>
    public List<(double Time, TcpState Client, TcpState Server)> States { get; } = [];

    /// <summary>Data the client sent and the server's answers to it; <see cref="FromServer"/> the other way.</summary>
    public DirectionSketch FromClient => _fromClient ??= new DirectionSketch(T0);
    public DirectionSketch FromServer => _fromServer ??= new DirectionSketch(T0);

    public static ConversationSketch Of(Conversation c)
    {
        var s = new ConversationSketch(c);
        foreach (var p in c.Packets) s.Add(p);
        return s;
    }

    public void Add(PacketView p)
    {
        if (PacketCount++ == 0) T0 = p.Time;
        T1 = Math.Max(T1, p.Time);
        if (Ladder.Count < LadderRows) Ladder.Add(p);
        (p.FromClient ? FromClient : FromServer).Sent(p);
        (p.FromClient ? FromServer : FromClient).Answered(p);
        if ((p.ClientState != _lastClient || p.ServerState != _lastServer) && States.Count < MaxStateChanges)
        {
            States.Add((p.Time, p.ClientState, p.ServerState));
            _lastClient = p.ClientState;
            _lastServer = p.ServerState;
        }
    }
}

/// <summary>One direction of a conversation as its graphs need it: the sender's segments and the receiver's answers.</summary>
internal sealed class DirectionSketch(double start)
{
    public readonly record struct Segment(double Time, long Seq, int Length);
    public readonly record struct Answer(double Time, long Ack, long Window);
    public readonly record struct Sack(double Time, long Left, long Right);
    public readonly record struct Point(double Time, double Value);

    private const int MaxUnanswered = 100_000;
    private readonly Dictionary<long, (double Time, bool Resent)> _unanswered = [];
    private long _highest, _acked;

    public ThinningList<Segment> Segments { get; } = new(ConversationSketch.Marks);
    /// <summary>Segments sent again (retransmissions, out of order): thinned apart from the others, so none is lost among them.</summary>
    public ThinningList<Segment> Resent { get; } = new(ConversationSketch.Marks);
    public ThinningList<Answer> Acks { get; } = new(ConversationSketch.Marks);
    public ThinningList<Sack> Sacks { get; } = new(ConversationSketch.Marks);
    public TimeBuckets Throughput { get; } = new(start);
    /// <summary>Round-trip samples in ms (Karn: only segments sent once).</summary>
    public ThinningList<Point> Rtt { get; } = new(ConversationSketch.Marks);
    public ThinningList<Point> Flight { get; } = new(ConversationSketch.Marks);
    public ThinningList<Point> Window { get; } = new(ConversationSketch.Marks);
    public long DataSegments { get; private set; }
    /// <summary>Segment bytes sent this way (retransmissions too): the graphs follow the direction that sent more.</summary>
    public long Bytes { get; private set; }
    /// <summary>The sequence range the time-sequence graph spans: the data, and the receiver's window edge once data flowed.</summary>
    public double Low { get; private set; } = double.MaxValue;
    public double High { get; private set; }

    public void Sent(PacketView p)
    {
        bool synOrFin = (p.Flags & (TcpFlags.Syn | TcpFlags.Fin)) != 0;
        if (p.Length > 0)
        {
            bool resent = IsResent(p);
            (resent ? Resent : Segments).Add(new Segment(p.Time, p.Seq, p.Length));
            Low = Math.Min(Low, p.Seq);
            High = Math.Max(High, p.Seq + p.Length);
            Throughput.Add(p.Time, p.Length * 8.0);
            _highest = Math.Max(_highest, p.Seq + p.Length);
            if (DataSegments == 0) _acked = p.Seq;
            DataSegments++;
            Bytes += p.Length;
            Flight.Add(new Point(p.Time, Math.Max(0, _highest - _acked)));
        }
        if (p.Length == 0 && !synOrFin) return;
        // Karn: a segment sent once gives a sample, taken by the ACK that ends exactly at its end (tcp.analysis.ack_rtt).
        long end = p.Seq + p.Length + (synOrFin ? 1 : 0);
        bool again = _unanswered.ContainsKey(end) || IsResent(p);
        if (_unanswered.Count >= MaxUnanswered && !_unanswered.ContainsKey(end)) _unanswered.Clear(); // a bound on what a huge flight keeps
        _unanswered[end] = (p.Time, again);
    }

    public void Answered(PacketView p)
    {
        if ((p.Flags & TcpFlags.Ack) == 0) return;
        Acks.Add(new Answer(p.Time, p.Ack, p.Window));
        Window.Add(new Point(p.Time, p.Window));
        if (DataSegments > 0)
        {
            High = Math.Max(High, p.Ack + p.Window);
            _acked = Math.Max(_acked, p.Ack);
        }
        if (p.Sacks is { } sacks)
        {
            foreach (var (l, r) in sacks) Sacks.Add(new Sack(p.Time, l, r));
        }
        if (_unanswered.Remove(p.Ack, out var s) && !s.Resent) Rtt.Add(new Point(p.Time, (p.Time - s.Time) * 1000));
    }

    private static bool IsResent(PacketView p)
    {
        foreach (var f in p.Findings)
        {
            if (f is "retransmission" or "out_of_order") return true;
        }
        return false;
    }
}
