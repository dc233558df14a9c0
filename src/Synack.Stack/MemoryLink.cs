namespace Synack.Stack;

/// <summary>How a <see cref="MemoryLink"/> treats the packets it carries. Every random choice comes from the seed.</summary>
public sealed record LinkOptions
{
    /// <summary>One-way propagation delay.</summary>
    public TimeSpan Latency { get; init; } = TimeSpan.FromMilliseconds(5);
    /// <summary>Bytes per second each sender can put on the link; 0 is unlimited.</summary>
    public long RateBytesPerSecond { get; init; }
    /// <summary>Packets a sender's queue holds while the link is busy; beyond it, tail drop.</summary>
    public int QueueLimit { get; init; } = 1000;
    public double Loss { get; init; }
    public double Duplication { get; init; }
    /// <summary>Probability that a packet is held back by up to <see cref="ReorderDelay"/>, letting later ones pass.</summary>
    public double Reordering { get; init; }
    public TimeSpan ReorderDelay { get; init; } = TimeSpan.FromMilliseconds(20);
    public double Corruption { get; init; }
    public int Seed { get; init; } = 1;
}

/// <summary>What an aimed fault does to the packets it matches.</summary>
public enum LinkFault
{
    Drop,
    Duplicate,
    Delay,
}

/// <summary>A fault aimed at the packets a predicate picks (sender, IP packet), for a number of matches.</summary>
public sealed class LinkRule(Func<NetworkStack, byte[], bool> match, LinkFault fault, int times, TimeSpan delay)
{
    public Func<NetworkStack, byte[], bool> Match { get; } = match;
    public LinkFault Fault { get; } = fault;
    public int Remaining { get; internal set; } = times;
    public TimeSpan Delay { get; } = delay;
}

/// <summary>
/// A shared medium joining two or more stacks on a virtual clock: it delivers each IP packet to the
/// stack that owns the destination address, after the sender's serialisation (rate, bounded queue)
/// and the latency, with seeded loss, duplication, reordering and corruption.
/// </summary>
public sealed class MemoryLink : IPacketSink
{
    private readonly SimulatedNetwork _net;
    private readonly List<NetworkStack> _stacks = [];
    private readonly Dictionary<NetworkStack, (TimeSpan FreeAt, int Queued)> _senders = new();
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
    public Action<NetworkStack, ReadOnlyMemory<byte>, TimeSpan>? Tap { get; set; }
    /// <summary>Called for every packet the link loses, with why.</summary>
    public Action<NetworkStack, byte[], string>? Dropped { get; set; }
    private readonly List<LinkRule> _rules = [];

    public LinkRule Drop(Func<NetworkStack, byte[], bool> match, int times = 1) => AddRule(new LinkRule(match, LinkFault.Drop, times, TimeSpan.Zero));
    public LinkRule Duplicate(Func<NetworkStack, byte[], bool> match, int times = 1) => AddRule(new LinkRule(match, LinkFault.Duplicate, times, TimeSpan.Zero));
    public LinkRule Delay(Func<NetworkStack, byte[], bool> match, TimeSpan by, int times = 1) => AddRule(new LinkRule(match, LinkFault.Delay, times, by));

    private LinkRule AddRule(LinkRule rule)
    {
        _rules.Add(rule);
        return rule;
    }

    /// <summary>Puts a packet on the link as if <paramref name="from"/> had sent it (an old duplicate, a forged segment).</summary>
    public void Inject(NetworkStack from, byte[] packet) => Transmit(from, packet);

    public void Attach(NetworkStack stack)
    {
        _stacks.Add(stack);
        stack.Output = this;
    }

    public void Transmit(NetworkStack from, ReadOnlySpan<byte> packet)
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
        var extra = TimeSpan.Zero;
        int copies = 1;
        foreach (var rule in _rules)
        {
            if (rule.Remaining <= 0 || !rule.Match(from, copy)) continue;
            rule.Remaining--;
            switch (rule.Fault)
            {
                case LinkFault.Drop:
                    Lost++;
                    Dropped?.Invoke(from, copy, "dropped by rule");
                    return;
                case LinkFault.Duplicate:
                    copies++;
                    break;
                case LinkFault.Delay:
                    extra += rule.Delay;
                    break;
            }
        }
        var o = Options;
        var to = Route(copy);
        if (to is null) return; // no such host on this link
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

    private void Dequeued(NetworkStack from)
    {
        if (_senders.TryGetValue(from, out var tx) && tx.Queued > 0) _senders[from] = (tx.FreeAt, tx.Queued - 1);
    }

    private void Deliver(NetworkStack to, byte[] packet, TimeSpan at) =>
        _net.Schedule(at, () =>
        {
            Delivered++;
            to.Receive(packet, _net.Now);
        });

    private NetworkStack? Route(byte[] packet)
    {
        if (!Synack.Wire.IpHeader.TryParse(packet, out var ip, out _)) return null;
        foreach (var s in _stacks)
        {
            foreach (var a in s.Options.Addresses)
            {
                if (a == ip.Destination) return s;
            }
        }
        return null;
    }
}
