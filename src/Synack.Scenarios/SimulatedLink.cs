using Synack.Simulation;
using Synack.Stack;

namespace Synack.Scenarios;

/// <summary>
/// A run's <see cref="MemoryLink"/> as a scenario aims at it: faults picked by a predicate on the
/// segment as the trace describes it (who sent it, flags, numbers, length).
/// </summary>
public sealed class SimulatedLink
{
    private readonly ScenarioRun _run;

    internal SimulatedLink(ScenarioRun run) => _run = run;

    private MemoryLink Link => _run.MemoryLink;

    /// <summary>One-way latency (10 ms in the scenarios).</summary>
    public TimeSpan Latency
    {
        get => Link.Conditions.Latency;
        set => Link.Conditions = Link.Conditions with { Latency = value };
    }

    /// <summary>When false the link carries nothing (a cable pulled): every segment is dropped.</summary>
    public bool Up
    {
        get => Link.Up;
        set => Link.Up = value;
    }

    /// <summary>Loses the next <paramref name="times"/> segments <paramref name="match"/> picks.</summary>
    public LinkRule Drop(Func<SegmentInfo, bool> match, int times = 1) => Link.Drop(On(match), times);
    /// <summary>Delivers the next <paramref name="times"/> segments <paramref name="match"/> picks twice.</summary>
    public LinkRule Duplicate(Func<SegmentInfo, bool> match, int times = 1) => Link.Duplicate(On(match), times);
    /// <summary>Delivers the next <paramref name="times"/> segments <paramref name="match"/> picks later by <paramref name="by"/>.</summary>
    public LinkRule Delay(Func<SegmentInfo, bool> match, TimeSpan by, int times = 1) => Link.Delay(On(match), by, times);
    /// <summary>Keeps matching segments until <see cref="ReleaseHeld"/>: later segments overtake them.</summary>
    public LinkRule Hold(Func<SegmentInfo, bool> match, int times = 1) => Link.Hold(On(match), times);
    /// <summary>Flips one bit of matching segments: the receiver's checksum must catch it.</summary>
    public LinkRule Corrupt(Func<SegmentInfo, bool> match, int times = 1) => Link.Corrupt(On(match), times);

    /// <summary>Delivers the held segments now.</summary>
    public void ReleaseHeld() => Link.ReleaseHeld();

    /// <summary>Removes every rule.</summary>
    public void ClearRules() => Link.ClearRules();

    /// <summary>Puts a packet on the wire as if <paramref name="from"/> had sent it (an old duplicate, a forged segment).</summary>
    public void Inject(ScenarioEndpoint from, byte[] packet)
    {
        var node = _run.Network.Nodes.First(n => n.Name == from.Name);
        _run.Network.Invoke(() => Link.Inject(node, packet));
    }

    private static Func<INetworkNode, byte[], bool> On(Func<SegmentInfo, bool> match) =>
        (from, packet) => match(ScenarioRun.Describe(from.Name, packet));
}
