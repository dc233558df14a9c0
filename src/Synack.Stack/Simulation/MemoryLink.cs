namespace Synack.Stack;

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
    private readonly Dictionary<INetworkNode, (TimeSpan FreeAt, int Queued)> _senders = new();
    private readonly List<LinkRule> _rules = [];
    private readonly List<(INetworkNode To, byte[] Packet)> _held = [];
    private readonly Random _rng;

    internal MemoryLink(SimulatedNetwork net, LinkOptions options)
    {
        _net = net;
        Options = options;
        _rng = new Random(options.Seed);
    }

    public LinkOptions Options { get; set; }
    /// <summary>When false nothing gets through (a cable pulled).</summary>
    public bool Up { get; set; } = true;
    public long Delivered { get; private set; }
    public long Lost { get; private set; }
    public long TailDropped { get; private set; }
    public long Duplicated { get; private set; }
    public long Corrupted { get; private set; }
    public long Reordered { get; private set; }
    /// <summary>Called for every packet put on the link, before any fault: a capture tap.</summary>
    public Action<INetworkNode, ReadOnlyMemory<byte>, TimeSpan>? Tap { get; set; }
    /// <summary>Called for every packet the link loses (or holds back), with why.</summary>
    public Action<INetworkNode, byte[], string>? Dropped { get; set; }
    /// <summary>Called when a rule makes a second copy of a packet.</summary>
    public Action<INetworkNode, byte[]>? Copied { get; set; }

    public LinkRule Drop(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Drop, times, TimeSpan.Zero);
    public LinkRule Duplicate(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Duplicate, times, TimeSpan.Zero);
    public LinkRule Delay(Func<INetworkNode, byte[], bool> match, TimeSpan by, int times = 1) => AddRule(match, LinkFault.Delay, times, by);
    public LinkRule Hold(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Hold, times, TimeSpan.Zero);
    public LinkRule Corrupt(Func<INetworkNode, byte[], bool> match, int times = 1) => AddRule(match, LinkFault.Corrupt, times, TimeSpan.Zero);

    private LinkRule AddRule(Func<INetworkNode, byte[], bool> match, LinkFault fault, int times, TimeSpan delay)
    {
        var rule = new LinkRule(match, fault, times, delay);
        _rules.Add(rule);
        return rule;
    }

    public void ClearRules() => _rules.Clear();

    /// <summary>Delivers the held packets now (after the latency), behind everything that overtook them.</summary>
    public void ReleaseHeld()
    {
        foreach (var (to, packet) in _held) Deliver(to, packet, _net.Now + Options.Latency);
        _held.Clear();
    }

    /// <summary>Puts a packet on the link as if <paramref name="from"/> had sent it (an old duplicate, a forged segment).</summary>
    public void Inject(INetworkNode from, byte[] packet) => Transmit(from, packet);

    public void Attach(INetworkNode node)
    {
        _nodes.Add(node);
        node.Output = this;
    }

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
                    if (to is not null) _held.Add((to, copy));
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
        if (to is null) return; // no such host on this link
        var o = Options;
        _senders.TryGetValue(from, out var tx);
        var departs = now;
        if (o.RateBytesPerSecond > 0)
        {
            if (tx.FreeAt > now && tx.Queued >= o.QueueLimit)
            {
                TailDropped++;
                Dropped?.Invoke(from, copy, "queue full (tail drop)");
                return;
            }
            var start = tx.FreeAt > now ? tx.FreeAt : now;
            departs = start + TimeSpan.FromTicks(copy.Length * TimeSpan.TicksPerSecond / o.RateBytesPerSecond);
            tx = (departs, tx.FreeAt > now ? tx.Queued + 1 : 1);
            _senders[from] = tx;
            _net.Schedule(departs, () => Dequeued(from));
        }
        if (o.Loss > 0 && _rng.NextDouble() < o.Loss)
        {
            Lost++;
            Dropped?.Invoke(from, copy, "random loss");
            return;
        }
        if (o.Corruption > 0 && _rng.NextDouble() < o.Corruption)
        {
            Corrupted++;
            copy = (byte[])copy.Clone();
            copy[_rng.Next(20, copy.Length)] ^= (byte)(1 << _rng.Next(8));
        }
        var arrives = departs + o.Latency + extra;
        if (o.Reordering > 0 && _rng.NextDouble() < o.Reordering)
        {
            Reordered++;
            arrives += TimeSpan.FromTicks((long)(_rng.NextDouble() * o.ReorderDelay.Ticks));
        }
        Deliver(to, copy, arrives);
        if (o.Duplication > 0 && _rng.NextDouble() < o.Duplication) copies++;
        for (int i = 1; i < copies; i++)
        {
            Duplicated++;
            Deliver(to, copy, arrives + TimeSpan.FromTicks(i));
        }
    }

    private void Dequeued(INetworkNode from)
    {
        if (_senders.TryGetValue(from, out var tx) && tx.Queued > 0) _senders[from] = (tx.FreeAt, tx.Queued - 1);
    }

    private void Deliver(INetworkNode to, byte[] packet, TimeSpan at) =>
        _net.Schedule(at, () =>
        {
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
