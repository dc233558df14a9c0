using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// What the send queue costs in Linux's own terms (sk_wmem_queued): every byte from SND.UNA on, plus
/// the fixed cost of each socket buffer that holds them. SO_SNDBUF bounds that sum, not the bytes, so
/// how the bytes are cut into buffers decides how much a write may queue. Linux cuts them twice: a
/// write fills buffers of tcp_xmit_size_goal bytes (chunks), and sending cuts each chunk where a GSO
/// packet ends (tso_fragment) or merges whole chunks into one packet (tcp_grow_skb). This ledger keeps
/// those boundaries: the ends of sent packets not yet wholly acknowledged, and the ends of chunks not
/// yet wholly sent. Both are bounded: a chunk starts only while the sum is under the limit, and a
/// packet is sent only inside the congestion window.
/// </summary>
internal sealed class SendMemory
{
    /// <summary>
    /// An empty buffer as tcp_stream_alloc_skb makes it on x86-64 (SKB_TRUESIZE of a 1 KiB head: 704 +
    /// 256 for the sk_buff + 320 for skb_shared_info); the bytes live in page fragments counted apart.
    /// </summary>
    public const int BufferCost = 1280;

    private readonly Queue<SeqNum> _sent = new();   // ends of sent packets, not yet wholly acknowledged
    private readonly Queue<SeqNum> _filled = new(); // ends of chunks a later chunk followed, not yet wholly sent
    private bool _open;     // the last chunk is still being filled (its end is the end of the data)
    private SeqNum _openStart;

    /// <summary>Socket buffers holding the queue.</summary>
    public int Buffers => _sent.Count + _filled.Count + (_open ? 1 : 0);

    /// <summary>A write starts a chunk at <paramref name="dataEnd"/>; the chunk before it, if any, is full.</summary>
    public void StartChunk(SeqNum dataEnd)
    {
        if (_open) _filled.Enqueue(dataEnd);
        _open = true;
        _openStart = dataEnd;
    }

    /// <summary>The unsent bytes of the chunk being filled (Linux's write-queue tail): a write tops it up first, whatever the limit.</summary>
    public int Tail(SeqNum sentEnd, SeqNum dataEnd)
    {
        if (!_open) return 0;
        var from = SeqNum.Max(_openStart, sentEnd);
        return from < dataEnd ? dataEnd - from : 0;
    }

    /// <summary>New data went out as one packet ending at <paramref name="packetEnd"/>: chunks it covered are merged into it.</summary>
    public void Sent(SeqNum packetEnd, SeqNum dataEnd)
    {
        while (_filled.TryPeek(out var end) && end <= packetEnd) _filled.Dequeue();
        if (_open && _filled.Count == 0 && packetEnd >= dataEnd) _open = false;
        _sent.Enqueue(packetEnd);
    }

    /// <summary>
    /// Where a packet of new data starting at <paramref name="from"/> may end at most: the end of the
    /// buffer after the one holding <paramref name="from"/>, since tcp_write_xmit grows a short buffer from
    /// the next one only (tcp_grow_skb); the end of the data when the last buffer holds it.
    /// </summary>
    public SeqNum PacketEnd(SeqNum from, SeqNum dataEnd)
    {
        SeqNum? holding = null;
        foreach (var end in _filled)
        {
            if (end <= from) continue;
            if (holding is not null) return end;
            holding = end;
        }
        // The buffer holding it is the last one filled, unless the open chunk follows it (or holds it).
        return holding is SeqNum last && !_open ? last : dataEnd;
    }

    /// <summary>SND.UNA moved to <paramref name="una"/>: packets wholly acknowledged are freed (a partly acknowledged one only shrinks).</summary>
    public void Acked(SeqNum una)
    {
        while (_sent.TryPeek(out var end) && end <= una) _sent.Dequeue();
    }

    public void Clear()
    {
        _sent.Clear();
        _filled.Clear();
        _open = false;
    }
}
