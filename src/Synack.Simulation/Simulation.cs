using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>
/// Two endpoints, a client and a server, joined by a <see cref="SimulatedLink"/> on a virtual clock.
/// Deterministic: the same calls give the same trace, to the tick.
/// </summary>
public sealed class Simulation : IDemoRun
{
    private readonly PriorityQueue<Action, (TimeSpan At, long Order)> _queue = new();
    private long _order;

    public Simulation(ConnectionOptions? clientOptions = null, ConnectionOptions? serverOptions = null,
        IIsnGenerator? clientIsn = null, IIsnGenerator? serverIsn = null)
    {
        Link = new SimulatedLink(this);
        Client = new Endpoint(this, "client", IpAddr.Parse("192.0.2.1"), 40000, clientOptions ?? ConnectionOptions.Default,
            clientIsn ?? new Rfc6528IsnGenerator(new byte[32]));
        Server = new Endpoint(this, "server", IpAddr.Parse("192.0.2.2"), 80, serverOptions ?? ConnectionOptions.Default,
            serverIsn ?? new Rfc6528IsnGenerator(Enumerable.Repeat((byte)1, 32).ToArray()));
        Client.Peer = Server;
        Server.Peer = Client;
    }

    public TimeSpan Clock { get; private set; }
    public Endpoint Client { get; }
    public Endpoint Server { get; }
    public SimulatedLink Link { get; }
    public Trace Trace { get; } = new();

    IDemoEndpoint IDemoRun.Client => Client;
    IDemoEndpoint IDemoRun.Server => Server;
    IDemoLink IDemoRun.Link => Link;

    public void Note(string who, string text) => Record(TraceKind.UserCall, who, text: text);

    public void Schedule(TimeSpan at, Action action) => _queue.Enqueue(action, (at, _order++));

    /// <summary>Runs the next thing that happens (a delivery or a timer) if it is due by <paramref name="limit"/>.</summary>
    public bool Step(TimeSpan limit)
    {
        var nextTimer = Client.NextDeadline < Server.NextDeadline ? Client.NextDeadline : Server.NextDeadline;
        bool haveEvent = _queue.TryPeek(out _, out var key);
        var nextEvent = haveEvent ? key.At : TimeSpan.MaxValue;
        var next = nextEvent <= nextTimer ? nextEvent : nextTimer;
        if (next == TimeSpan.MaxValue || next > limit) return false;
        if (next > Clock) Clock = next;
        if (haveEvent && nextEvent <= nextTimer)
        {
            _queue.Dequeue()();
            return true;
        }
        if (Client.NextDeadline <= Clock) Client.FireTimers();
        if (Server.NextDeadline <= Clock) Server.FireTimers();
        return true;
    }

    /// <summary>Runs for <paramref name="duration"/> of virtual time; the clock ends there.</summary>
    public void RunFor(TimeSpan duration)
    {
        var limit = Clock + duration;
        int guard = 0;
        while (Step(limit))
        {
            if (++guard > 10_000_000) throw new InvalidOperationException("simulation does not settle");
        }
        Clock = limit;
    }

    /// <summary>Runs until nothing is left to happen, or <paramref name="limit"/> of virtual time passes.</summary>
    public void RunUntilIdle(TimeSpan? limit = null)
    {
        var end = Clock + (limit ?? TimeSpan.FromHours(1));
        int guard = 0;
        while (Step(end))
        {
            if (++guard > 10_000_000) throw new InvalidOperationException("simulation does not settle");
        }
    }

    /// <summary>Runs until <paramref name="condition"/> holds; false if <paramref name="limit"/> passes first.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan? limit = null)
    {
        var end = Clock + (limit ?? TimeSpan.FromHours(1));
        while (!condition())
        {
            if (!Step(end)) return condition();
        }
        return true;
    }

    internal void Record(TraceKind kind, string endpoint, SegmentInfo? segment = null, TcpState from = default, TcpState to = default, string text = "")
    {
        Trace.Add(new TraceEntry(Trace.NextIndex, Clock, kind, endpoint, segment, from, to, text, Client.State, Server.State));
    }

    internal static SegmentInfo Describe(string from, string to, byte[] packet)
    {
        TcpPacket.TryParse(packet, out var ip, out var tcp, out _, verifyChecksum: false);
        int len = Math.Max(0, ip.PayloadLength - tcp.HeaderLength);
        return new SegmentInfo(from, to, tcp.Flags, tcp.Seq, tcp.Ack, len, tcp.Window, tcp.Options, packet);
    }
}
