namespace Synack.Tcp;

/// <summary>
/// A fixed-capacity ring of bytes. Both the send buffer (bytes from SND.UNA on) and the receive
/// buffer (in-order bytes the user has not read) are one of these: memory is bounded by construction.
/// </summary>
internal sealed class ByteRing
{
    private readonly byte[] _buf;
    private int _head;

    public ByteRing(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _buf = new byte[capacity];
    }

    public int Capacity => _buf.Length;
    public int Count { get; private set; }
    public int Free => _buf.Length - Count;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free);
        int tail = (_head + Count) % _buf.Length;
        int first = Math.Min(n, _buf.Length - tail);
        data[..first].CopyTo(_buf.AsSpan(tail));
        data[first..n].CopyTo(_buf);
        Count += n;
        return n;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes past the head, without consuming them.</summary>
    public int Peek(int offset, Span<byte> dest)
    {
        if (offset >= Count) return 0;
        int n = Math.Min(dest.Length, Count - offset);
        int start = (_head + offset) % _buf.Length;
        int first = Math.Min(n, _buf.Length - start);
        _buf.AsSpan(start, first).CopyTo(dest);
        _buf.AsSpan(0, n - first).CopyTo(dest[first..]);
        return n;
    }

    public void Discard(int n)
    {
        n = Math.Min(n, Count);
        _head = (_head + n) % _buf.Length;
        Count -= n;
        if (Count == 0) _head = 0;
    }

    public int Read(Span<byte> dest)
    {
        int n = Peek(0, dest);
        Discard(n);
        return n;
    }
}
