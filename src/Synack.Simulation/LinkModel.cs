namespace Synack.Simulation;

/// <summary>
/// What a link does to the packets put on it, under <see cref="LinkConditions"/>: each sender's
/// serialisation and bounded queue (a <see cref="SenderQueue"/>), then seeded loss, corruption,
/// latency with reordering, and duplication. It only decides; the caller carries the packet (on
/// virtual time in <see cref="MemoryLink"/>, in real time between two kernels). The n-th packet meets
/// the same fate for the same seed, options and times, whoever carries it.
/// </summary>
public sealed class LinkModel
{
    private readonly Random _random;

    /// <param name="seed">Every random choice derives from it (loss, corruption, reordering, duplication).</param>
    public LinkModel(int seed) => _random = new Random(seed);

    /// <summary>
    /// The fate of a packet of <paramref name="length"/> bytes sent at <paramref name="now"/>, held back
    /// <paramref name="extraDelay"/> more than the latency (an aimed delay). Random draws are made in a
    /// fixed order — loss, corruption, reordering, duplication — and only for a packet that gets that far.
    /// </summary>
    public PacketFate Next(LinkConditions options, SenderQueue sender, int length, TimeSpan now, TimeSpan extraDelay = default)
    {
        var departs = now;
        if (options.RateBytesPerSecond > 0 && !sender.TryEnter(options, length, now, out departs)) return new PacketFate(PacketVerdict.TailDropped, now);
        // Lost after it was serialised: a packet lost on the wire has used the sender's time.
        if (options.Loss > 0 && _random.NextDouble() < options.Loss) return new PacketFate(PacketVerdict.Lost, departs);
        int corruptAt = -1;
        byte mask = 0;
        if (options.Corruption > 0 && _random.NextDouble() < options.Corruption && length > MinCorruptOffset)
        {
            corruptAt = _random.Next(MinCorruptOffset, length);
            mask = (byte)(1 << _random.Next(8));
        }
        var arrives = departs + options.Latency + extraDelay;
        bool reordered = false;
        if (options.Reordering > 0 && _random.NextDouble() < options.Reordering)
        {
            reordered = true;
            arrives += TimeSpan.FromTicks((long)(_random.NextDouble() * options.ReorderDelay.Ticks));
        }
        bool duplicated = options.Duplication > 0 && _random.NextDouble() < options.Duplication;
        return new PacketFate(PacketVerdict.Delivered, arrives, corruptAt, mask, reordered, duplicated);
    }

    /// <summary>Corruption spares the first 20 bytes: an IP header that no longer parses would only test the router, not TCP.</summary>
    private const int MinCorruptOffset = 20;
}

/// <summary>
/// One sender's way onto a link with a rate: packets leave one after another, each when the one before
/// has been serialised, and at most <see cref="LinkConditions.QueueLimit"/> wait.
/// </summary>
public sealed class SenderQueue
{
    // When each packet still waiting leaves, oldest first: the queue's length at any moment is exact,
    // with no event to schedule when a packet leaves.
    private readonly Queue<TimeSpan> _departures = new();
    private TimeSpan _freeAt;

    /// <summary>Packets waiting at <paramref name="now"/>, not yet on the wire.</summary>
    public int Queued(TimeSpan now)
    {
        while (_departures.TryPeek(out var d) && d <= now) _departures.Dequeue();
        return _departures.Count;
    }

    internal bool TryEnter(LinkConditions options, int length, TimeSpan now, out TimeSpan departs)
    {
        departs = now;
        if (_freeAt > now && Queued(now) >= options.QueueLimit) return false;
        departs = (_freeAt > now ? _freeAt : now) + TimeSpan.FromTicks(length * TimeSpan.TicksPerSecond / options.RateBytesPerSecond);
        _freeAt = departs;
        _departures.Enqueue(departs);
        return true;
    }
}

/// <summary>Whether a packet gets through a <see cref="LinkModel"/>.</summary>
public enum PacketVerdict
{
    /// <summary>The packet arrives.</summary>
    Delivered,
    /// <summary>The sender's queue was full.</summary>
    TailDropped,
    /// <summary>Random loss on the wire.</summary>
    Lost,
}

/// <summary>
/// One packet's fate: whether it arrives and when (for a lost one, when it left the sender), the byte
/// to damage and the bit to flip (<see cref="CorruptAt"/> is -1 for none), whether it was held back to
/// let later packets pass, and whether a second copy arrives one tick after it.
/// </summary>
public readonly record struct PacketFate(
    PacketVerdict Verdict,
    TimeSpan Arrives,
    int CorruptAt = -1,
    byte CorruptMask = 0,
    bool Reordered = false,
    bool Duplicated = false)
{
    /// <summary>Flips the chosen bit in <paramref name="packet"/>, if the fate corrupts it.</summary>
    public void ApplyCorruption(Span<byte> packet)
    {
        if (CorruptAt >= 0 && CorruptAt < packet.Length) packet[CorruptAt] ^= CorruptMask;
    }
}
