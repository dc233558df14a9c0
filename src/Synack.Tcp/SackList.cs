using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// The SACK blocks we report (RFC 2018 section 4): the block holding the most recently received
/// segment first, then the others most recently reported first; plus a one-time D-SACK block for
/// duplicate data (RFC 2883) that goes in front of them in the next ACK only.
/// </summary>
internal sealed class SackList
{
    private readonly (SeqNum Start, SeqNum End)[] _blocks = new (SeqNum, SeqNum)[TcpOptions.MaxSackBlocks];
    private int _count;
    private (SeqNum Start, SeqNum End)? _duplicate;

    public int Count => _count;

    /// <summary>A segment landed out of order and now lies in [start, end): that block goes first.</summary>
    public void Arrived(SeqNum start, SeqNum end)
    {
        int kept = 0;
        Span<(SeqNum, SeqNum)> old = stackalloc (SeqNum, SeqNum)[TcpOptions.MaxSackBlocks];
        for (int i = 0; i < _count; i++)
        {
            var b = _blocks[i];
            if (b.Start >= start && b.End <= end) continue; // swallowed by the merged block
            old[kept++] = b;
        }
        _blocks[0] = (start, end);
        _count = 1;
        for (int i = 0; i < kept && _count < _blocks.Length; i++) _blocks[_count++] = old[i];
    }

    /// <summary>RCV.NXT reached <paramref name="next"/>: blocks below it are acknowledged cumulatively now.</summary>
    public void Acknowledged(SeqNum next)
    {
        int kept = 0;
        for (int i = 0; i < _count; i++)
        {
            if (_blocks[i].End <= next) continue;
            _blocks[kept++] = _blocks[i].Start < next ? (next, _blocks[i].End) : _blocks[i];
        }
        _count = kept;
    }

    public void Duplicate(SeqNum start, SeqNum end) => _duplicate ??= (start, end);

    /// <summary>Writes the blocks into an outgoing ACK; the D-SACK block is reported once.</summary>
    public void WriteTo(ref TcpOptions options)
    {
        if (_duplicate is { } d)
        {
            options.AddSackBlock(new SackBlock(d.Start, d.End));
            _duplicate = null;
        }
        for (int i = 0; i < _count; i++) options.AddSackBlock(new SackBlock(_blocks[i].Start, _blocks[i].End));
    }

    public void Clear()
    {
        _count = 0;
        _duplicate = null;
    }
}
