namespace Synack.Simulation;

/// <summary>What the link does to a segment that a rule matches.</summary>
public enum Impairment
{
    Drop,
    Duplicate,
    Delay,
    /// <summary>Keep the segment until <see cref="SimulatedLink.ReleaseHeld"/>: later segments overtake it.</summary>
    Hold,
    /// <summary>Flip one bit of the TCP segment: the receiver's checksum must catch it.</summary>
    Corrupt,
}

/// <summary>A fault aimed at the segments a predicate picks, for a number of matches.</summary>
public sealed class LinkRule(Func<SegmentInfo, bool> match, Impairment action, int times, TimeSpan delay)
{
    public Func<SegmentInfo, bool> Match { get; } = match;
    public Impairment Action { get; } = action;
    public int Remaining { get; internal set; } = times;
    public TimeSpan Delay { get; } = delay;
    public int Applied { get; internal set; }
}

/// <summary>
/// A point-to-point link with a fixed one-way latency, and faults a test aims at chosen segments.
/// Everything it does is on the virtual clock and lands in the trace.
/// </summary>
public sealed class SimulatedLink : IDemoLink
{
    private readonly Simulation _sim;
    private readonly List<LinkRule> _rules = [];
    private readonly List<(Endpoint To, byte[] Packet)> _held = [];

    internal SimulatedLink(Simulation sim) => _sim = sim;

    public TimeSpan Latency { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>When false the link carries nothing (a cable pulled): every segment is dropped.</summary>
    public bool Up { get; set; } = true;

    public LinkRule Drop(Func<SegmentInfo, bool> match, int times = 1) => Add(match, Impairment.Drop, times, TimeSpan.Zero);
    public LinkRule Duplicate(Func<SegmentInfo, bool> match, int times = 1) => Add(match, Impairment.Duplicate, times, TimeSpan.Zero);
    public LinkRule Delay(Func<SegmentInfo, bool> match, TimeSpan by, int times = 1) => Add(match, Impairment.Delay, times, by);
    public LinkRule Hold(Func<SegmentInfo, bool> match, int times = 1) => Add(match, Impairment.Hold, times, TimeSpan.Zero);
    public LinkRule Corrupt(Func<SegmentInfo, bool> match, int times = 1) => Add(match, Impairment.Corrupt, times, TimeSpan.Zero);

    private LinkRule Add(Func<SegmentInfo, bool> match, Impairment action, int times, TimeSpan delay)
    {
        var rule = new LinkRule(match, action, times, delay);
        _rules.Add(rule);
        return rule;
    }

    public void ClearRules() => _rules.Clear();

    void IDemoLink.Drop(Func<SegmentInfo, bool> match, int times) => Drop(match, times);
    void IDemoLink.Delay(Func<SegmentInfo, bool> match, TimeSpan by, int times) => Delay(match, by, times);
    void IDemoLink.Inject(IDemoEndpoint from, IDemoEndpoint to, byte[] packet) => Inject((Endpoint)from, (Endpoint)to, packet);

    /// <summary>Delivers the held segments now, after everything that overtook them.</summary>
    public void ReleaseHeld()
    {
        foreach (var (to, packet) in _held)
        {
            _sim.Schedule(_sim.Clock + Latency, () => to.Deliver(packet));
        }
        _held.Clear();
    }

    /// <summary>Puts a packet on the wire as if <paramref name="from"/> had sent it (an old duplicate, a forged segment).</summary>
    public void Inject(Endpoint from, Endpoint to, byte[] packet) => Send(from, to, packet);

    internal void Send(Endpoint from, Endpoint to, byte[] packet)
    {
        var info = Simulation.Describe(from.Name, to.Name, packet);
        _sim.Record(TraceKind.Sent, from.Name, info);
        if (!Up)
        {
            _sim.Record(TraceKind.Dropped, from.Name, info, text: "link down");
            return;
        }
        var delay = Latency;
        int copies = 1;
        foreach (var rule in _rules)
        {
            if (rule.Remaining <= 0 || !rule.Match(info)) continue;
            rule.Remaining--;
            rule.Applied++;
            switch (rule.Action)
            {
                case Impairment.Drop:
                    _sim.Record(TraceKind.Dropped, from.Name, info, text: "dropped by rule");
                    return;
                case Impairment.Hold:
                    _sim.Record(TraceKind.Dropped, from.Name, info, text: "held for reordering");
                    _held.Add((to, packet));
                    return;
                case Impairment.Duplicate:
                    copies++;
                    _sim.Record(TraceKind.Duplicated, from.Name, info);
                    break;
                case Impairment.Delay:
                    delay += rule.Delay;
                    break;
                case Impairment.Corrupt:
                    packet = (byte[])packet.Clone();
                    packet[^1] ^= 0x40; // the last byte: payload if any, else the TCP header
                    break;
            }
        }
        for (int i = 0; i < copies; i++)
        {
            _sim.Schedule(_sim.Clock + delay, () => to.Deliver(packet));
        }
    }
}
