using System.Buffers;

namespace Synack.Tcp;

/// <summary>
/// A fixed-capacity ring of bytes. Both the send buffer (bytes from SND.UNA on) and the receive
/// buffer (in-order bytes the user has not read) are one of these: memory is bounded by construction.
/// The storage is rented from the shared pool only while it holds data, so ten thousand idle or
/// half-open connections cost no buffer memory at all. A struct, kept as a field of the sender and
/// the receiver (never copied: a copy would share the storage but not the indexes), so an idle
/// connection pays 24 bytes for each ring instead of an object and a pointer to it.
/// </summary>
internal struct ByteRing
{
    private int _capacity;
    private byte[]? _buf;
    private int _head;

    public ByteRing(int capacity)
    {
        if (capacity <= 0) throw new ArgumentOutOfRangeException(nameof(capacity));
        _capacity = capacity;
    }

    public int Capacity => _capacity;
    /// <summary>Set while bytes stored by <see cref="WriteAt"/> wait past the end: the storage must stay.</summary>
    public bool HoldsPending { get; set; }

    /// <summary>Changes the capacity while the ring is empty and holds no storage (before any data).</summary>
    public bool TryResize(int capacity)
    {
        if (_buf is not null || Count != 0 || capacity <= 0) return false;
        _capacity = capacity;
        return true;
    }

    /// <summary>
    /// Changes the capacity while holding data (a send buffer resized by SO_SNDBUF on an open
    /// connection): never below what it holds, never with bytes waiting out of order.
    /// </summary>
    public bool Resize(int capacity)
    {
        if (capacity <= 0 || capacity < Count || HoldsPending) return false;
        if (_buf is not null)
        {
            var fresh = ArrayPool<byte>.Shared.Rent(capacity);
            Peek(0, fresh.AsSpan(0, Count));
            ArrayPool<byte>.Shared.Return(_buf);
            _buf = fresh;
            _head = 0;
        }
        _capacity = capacity;
        return true;
    }

    public int Count { get; private set; }
    public int Free => _capacity - Count;
    /// <summary>Bytes of storage held (rented only while there is data): what the ring costs the host's buffer budget.</summary>
    public readonly int StorageBytes => _buf?.Length ?? 0;

    /// <summary>Appends as much of <paramref name="data"/> as fits; returns how much.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = WriteAt(0, data);
        Count += n;
        return n;
    }

    /// <summary>
    /// Stores bytes <paramref name="offset"/> bytes past the end of the held data without making
    /// them part of it (out-of-order data waiting for a hole to fill); <see cref="Commit"/> takes them in.
    /// Returns how many fit.
    /// </summary>
    public int WriteAt(int offset, ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, Free - offset);
        if (n <= 0) return 0;
        _buf ??= ArrayPool<byte>.Shared.Rent(_capacity);
        int tail = (_head + Count + offset) % _capacity;
        int first = Math.Min(n, _capacity - tail);
        data[..first].CopyTo(_buf.AsSpan(tail));
        data[first..n].CopyTo(_buf);
        return n;
    }

    /// <summary>
    /// The free space right after the held data, as far as it runs before the end of the storage: a
    /// source writes there in place and <see cref="Commit"/>s what it wrote (no copy through a buffer of its own).
    /// </summary>
    public Span<byte> FreeSpan()
    {
        if (Free == 0) return default;
        _buf ??= ArrayPool<byte>.Shared.Rent(_capacity);
        int tail = (_head + Count) % _capacity;
        return _buf.AsSpan(tail, Math.Min(Free, _capacity - tail));
    }

    /// <summary>Makes <paramref name="n"/> bytes already stored past the end part of the held data.</summary>
    public void Commit(int n)
    {
        if (n < 0 || n > Free) throw new ArgumentOutOfRangeException(nameof(n));
        Count += n;
    }

    /// <summary>Copies bytes starting <paramref name="offset"/> bytes past the head, without consuming them.</summary>
    public int Peek(int offset, Span<byte> dest)
    {
        if (offset >= Count || _buf is null) return 0;
        int n = Math.Min(dest.Length, Count - offset);
        int start = (_head + offset) % _capacity;
        int first = Math.Min(n, _capacity - start);
        _buf.AsSpan(start, first).CopyTo(dest);
        _buf.AsSpan(0, n - first).CopyTo(dest[first..]);
        return n;
    }

    /// <summary>
    /// The bytes <paramref name="offset"/> past the head, in place, when they do not wrap around the end
    /// of the storage (most segments): the sender hands them to the output without a copy of its own.
    /// </summary>
    public readonly bool TryGetContiguous(int offset, int length, out ReadOnlySpan<byte> span)
    {
        span = default;
        if (_buf is null || offset < 0 || length <= 0 || offset + length > Count) return false;
        int start = (_head + offset) % _capacity;
        if (start + length > _capacity) return false;
        span = _buf.AsSpan(start, length);
        return true;
    }

    public void Discard(int n)
    {
        n = Math.Min(n, Count);
        _head = (_head + n) % _capacity;
        Count -= n;
        if (Count == 0 && !HoldsPending)
        {
            _head = 0;
            if (_buf is not null)
            {
                ArrayPool<byte>.Shared.Return(_buf);
                _buf = null;
            }
        }
    }

    public int Read(Span<byte> dest)
    {
        int n = Peek(0, dest);
        Discard(n);
        return n;
    }
}
