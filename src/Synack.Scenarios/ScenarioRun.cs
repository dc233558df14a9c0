using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// A client and a server joined by one <see cref="MemoryLink"/> on one <see cref="SimulatedNetwork"/>:
/// the virtual clock, the event loop and the link every run shares, whatever its endpoints are.
/// Everything that happens lands in <see cref="Trace"/>, in order.
/// </summary>
public abstract class ScenarioRun
{
    /// <summary>A run on <paramref name="network"/> whose two endpoints share one link with <paramref name="link"/>.</summary>
    protected ScenarioRun(SimulatedNetwork network, LinkConditions link)
    {
        Network = network;
        MemoryLink = network.Connect(link); // the endpoints are attached by the subclass
        Link = new SimulatedLink(this);
        MemoryLink.Tap = (from, packet, _) => Record(TraceKind.Sent, from.Name, Describe(from.Name, packet.ToArray()));
        MemoryLink.Dropped = (from, packet, why) => Record(TraceKind.Dropped, from.Name, Describe(from.Name, packet), text: why);
        MemoryLink.Copied = (from, packet) => Record(TraceKind.Duplicated, from.Name, Describe(from.Name, packet));
    }

    /// <summary>The simulated network the run is on.</summary>
    public SimulatedNetwork Network { get; }
    /// <summary>The link between the endpoints.</summary>
    public MemoryLink MemoryLink { get; }
    /// <summary>The link's faults, aimed at segments as the trace describes them.</summary>
    public SimulatedLink Link { get; }
    /// <summary>Everything that happened, in order.</summary>
    public Trace Trace { get; } = new();
    /// <summary>The run's virtual time.</summary>
    public TimeSpan Clock => Network.Now;
    /// <summary>The endpoint that connects.</summary>
    public abstract ScenarioEndpoint Client { get; }
    /// <summary>The endpoint that listens.</summary>
    public abstract ScenarioEndpoint Server { get; }

    /// <summary>Runs everything due in the next <paramref name="duration"/> of virtual time.</summary>
    public void RunFor(TimeSpan duration) => Network.RunFor(duration);

    /// <summary>Runs until <paramref name="condition"/> holds; false if <paramref name="limit"/> (an hour) of virtual time passes first.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan? limit = null) => Network.RunUntil(condition, limit ?? TimeSpan.FromHours(1));

    /// <summary>Runs until nothing is left to happen, or <paramref name="limit"/> (an hour) of virtual time passes.</summary>
    public void RunUntilIdle(TimeSpan? limit = null) => Network.RunUntil(() => false, limit ?? TimeSpan.FromHours(1));

    /// <summary>Runs <paramref name="action"/> at virtual time <paramref name="at"/>.</summary>
    public void Schedule(TimeSpan at, Action action) => Network.Schedule(at, action);

    /// <summary>Records a note in the trace (a cut cable, say).</summary>
    public void Note(string who, string text) => Record(TraceKind.UserCall, who, text: text);

    internal void Record(TraceKind kind, string endpoint, SegmentInfo? segment = null, TcpState from = default, TcpState to = default, string text = "") =>
        Trace.Add(new TraceEntry(Trace.NextIndex, Clock, kind, endpoint, segment, from, to, text, Client.State, Server.State));

    internal static SegmentInfo Describe(string from, byte[] packet)
    {
        TcpPacket.TryParse(packet, out var ip, out var tcp, out _, verifyChecksum: false);
        int len = Math.Max(0, ip.PayloadLength - tcp.HeaderLength);
        return new SegmentInfo(from, from == "client" ? "server" : "client", tcp.Flags, tcp.Seq, tcp.Ack, len, tcp.Window, tcp.Options, packet);
    }
}
