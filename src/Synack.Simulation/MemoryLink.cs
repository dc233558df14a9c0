using Synack.Stack;

namespace Synack.Simulation;

/// <summary>
/// A shared medium joining two or more nodes on a virtual clock: it delivers each IP packet to the
/// node that owns the destination address, after the sender's serialisation (rate, bounded queue)
/// and the latency, with seeded loss, duplication, reordering and corruption, and faults a test aims
/// at chosen packets (drop, duplicate, delay, hold back, corrupt).
/// </summary>
public sealed class MemoryLink : IPacketSink
{
    private readonly SimulatedNetwork _net;
    private readonly List<INetworkNode> _nodes = [];
    private readonly Dictionary<INetworkNode, SenderQueue> _senders = new();
    private readonly List<LinkRule> _rules = [];
    private readonly List<(INetworkNode From, INetworkNode To, byte[] Packet)> _held = [];
    private readonly HashSet<INetworkNode> _partitioned = [];
    private readonly LinkModel _model;

    internal MemoryLink(SimulatedNetwork net, LinkConditions options, int seed)
    {
        _net = net;
        Conditions = options;
        _model = new LinkModel(seed);
    }

    /// <summary>Latency, loss and the rest; may be changed mid-run (a latency change, a lossier link).</summary>
    public LinkConditions Conditions { get; set; }
    /// <summary>When false nothing gets through (a cable pulled).</summary>
    public bool Up { get; set; } = true;
    /// <summary>Packets delivered.</summary>
    public long Delivered { get; private set; }
    /// <summary>Packets lost at random (<see cref="LinkConditions.Loss"/>).</summary>
    public long Lost { get; private set; }
    /// <summary>Packets dropped because the sender's queue was full.</summary>
    public long TailDropped { get; private set; }
    /// <summary>Packets delivered twice.</summary>
    public long Duplicated { get; private set; }
    /// <summary>Packets with a byte flipped.</summary>
    public long Corrupted { get; private set; }
    /// <summary>Packets held back so later ones passed them.</summary>
    public long Reordered { get; private set; }
    /// <summary>Packets lost to a partition (<see cref="Partition"/>).</summary>
    public long Partitioned { get; private set; }
    /// <summary>Packets for an address no host on the link has (one that vanished, say): gone without a word, as on a real LAN.</summary>
    public long Unroutable { get; private set; }
    /// <summary>Called for every packet put on the link, before any fault: a capture tap.</summary>
    public Action<INetworkNode, ReadOnlyMemory<byte>, TimeSpan>? Tap { get; set; }
    /// <summary>Called for every packet the link loses (or holds back), with why.</summary>
    public Action<INetworkNode, byte[], string>? Dropped { get; set; }
    /// <summary>Called when a rule makes a second copy of a packet.</summary>
    public Action<INetworkNode, byte[]>? Copied { get; set; }

    /// <summary>Loses the next <paramref name="times"/> packets <paramref name="match"/> picks (sender, IP packet).</summary>
    public LinkRule Drop(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Drop, times, TimeSpan.Zero);
    /// <summary>Delivers the next <paramref name="times"/> packets <paramref name="match"/> picks twice.</summary>
    public LinkRule Duplicate(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Duplicate, times, TimeSpan.Zero);
    /// <summary>Delivers the next <paramref name="times"/> packets <paramref name="match"/> picks later, by <paramref name="by"/>.</summary>
    public LinkRule Delay(Func<INetworkNode, byte[], bool> match, TimeSpan by, int times = 1) => AddRule(match, LinkFault.Delay, times, by);
    /// <summary>Holds the next <paramref name="times"/> packets <paramref name="match"/> picks until <see cref="ReleaseHeld"/>.</summary>
    public LinkRule Hold(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Hold, times, TimeSpan.Zero);
    /// <summary>Flips a byte in the next <paramref name="times"/> packets <paramref name="match"/> picks.</summary>
    public LinkRule Corrupt(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Corrupt, times, TimeSpan.Zero);

    private LinkRule AddRule(Func<INetworkNode, byte[], bool> match, LinkFault fault, int times, TimeSpan delay)
    {
        var rule = new LinkRule(match, fault, times, delay);
        _rules.Add(rule);
        return rule;
    }

    /// <summary>Removes every rule.</summary>
    public void ClearRules() => _rules.Clear();

    /// <summary>Delivers the held packets now (after the latency), behind everything that overtook them.</summary>
    public void ReleaseHeld()
    {
        foreach (var (from, to, packet) in _held) Deliver(from, to, packet, _net.Now + Conditions.Latency);
        _held.Clear();
    }

    /// <summary>Puts a packet on the link as if <paramref name="from"/> had sent it (an old duplicate, a forged segment).</summary>
    public void Inject(INetworkNode from, byte[] packet) => Transmit(from, packet);

    /// <summary>Puts a host on the link (and makes the link its output).</summary>
    public void Attach(INetworkNode node)
    {
        _nodes.Add(node);
        node.Output = this;
    }

    /// <summary>
    /// The host vanishes (power cut, cable pulled at its end): it sends nothing more and packets for
    /// it are lost without an answer — no RST, no ICMP. Packets already on the way to it are lost too.
    /// Attach a new host with the same address to play one that came back with no memory of its connections.
    /// </summary>
    public void Detach(INetworkNode node)
    {
        _nodes.Remove(node);
        _partitioned.Remove(node);
        if (node.Output == this) node.Output = null;
    }

    /// <summary>
    /// Cuts the link between <paramref name="side"/> and every other host on it, both ways, until
    /// <see cref="Heal"/>: packets sent across are lost (those already on their way arrive). Hosts on the same side still reach each other.
    /// </summary>
    public void Partition(params INetworkNode[] side)
    {
        _partitioned.Clear();
        foreach (var n in side) _partitioned.Add(n);
    }

    /// <summary>Ends the partition: packets sent from now on get through.</summary>
    public void Heal() => _partitioned.Clear();

    /// <summary>True while some host is cut off (see <see cref="Partition"/>).</summary>
    public bool IsPartitioned => _partitioned.Count > 0;

    /// <summary>Takes a packet from <paramref name="from"/> and decides its fate by the options and rules.</summary>
    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
    {
        var copy = packet.ToArray();
        var now = _net.Now;
        Tap?.Invoke(from, copy, now);
        if (!Up)
        {
            Lost++;
            Dropped?.Invoke(from, copy, "link down");
            return;
        }
        var to = Route(copy);
        if (to is not null && _partitioned.Count > 0 && _partitioned.Contains(from) != _partitioned.Contains(to))
        {
            Partitioned++;
            Dropped?.Invoke(from, copy, "partition");
            return;
        }
        var extra = TimeSpan.Zero;
        int copies = 1;
        foreach (var rule in _rules)
        {
            if (rule.Remaining <= 0 || !rule.Match(from, copy)) continue;
            rule.Remaining--;
            rule.Applied++;
            switch (rule.Fault)
            {
                case LinkFault.Drop:
                    Lost++;
                    Dropped?.Invoke(from, copy, "dropped by rule");
                    return;
                case LinkFault.Hold:
                    Dropped?.Invoke(from, copy, "held for reordering");
                    if (to is not null) _held.Add((from, to, copy));
                    return;
                case LinkFault.Duplicate:
                    copies++;
                    Copied?.Invoke(from, copy);
                    break;
                case LinkFault.Delay:
                    extra += rule.Delay;
                    break;
                case LinkFault.Corrupt:
                    copy = (byte[])copy.Clone(); // the tap keeps what was sent
                    copy[^1] ^= 0x40;
                    Corrupted++;
                    break;
            }
        }
        if (to is null)
        {
            Unroutable++;
            Dropped?.Invoke(from, copy, "no host has that address");
            return;
        }
        if (!_senders.TryGetValue(from, out var queue)) _senders[from] = queue = new SenderQueue();
        var fate = _model.Next(Conditions, queue, copy.Length, now, extra);
        switch (fate.Verdict)
        {
            case PacketVerdict.TailDropped:
                TailDropped++;
                Dropped?.Invoke(from, copy, "queue full (tail drop)");
                return;
            case PacketVerdict.Lost:
                Lost++;
                Dropped?.Invoke(from, copy, "random loss");
                return;
        }
        if (fate.CorruptAt >= 0)
        {
            Corrupted++;
            copy = (byte[])copy.Clone();
            fate.ApplyCorruption(copy);
        }
        if (fate.Reordered) Reordered++;
        if (fate.Duplicated) copies++;
        for (int i = 0; i < copies; i++)
        {
            if (i > 0) Duplicated++;
            Deliver(from, to, copy, fate.Arrives + TimeSpan.FromTicks(i));
        }
    }

    private void Deliver(INetworkNode from, INetworkNode to, byte[] packet, TimeSpan at) =>
        _net.Schedule(at, () =>
        {
            // The receiver vanished, or a partition began, while the packet was on its way.
            if (!_nodes.Contains(to))
            {
                Unroutable++;
                Dropped?.Invoke(from, packet, "the host has vanished");
                return;
            }
            Delivered++;
            to.Receive(packet, _net.Now);
        });

    private INetworkNode? Route(byte[] packet)
    {
        if (!Synack.Wire.IpHeader.TryParse(packet, out var ip, out _)) return null;
        foreach (var n in _nodes)
        {
            foreach (var a in n.Addresses)
            {
                if (a == ip.Destination) return n;
            }
        }
        return null;
    }
}
