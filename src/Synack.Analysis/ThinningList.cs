namespace Synack.Analysis;

/// <summary>
/// At most <c>capacity</c> of a stream of points, evenly spread over all of them however many come: when
/// full, every second point kept is dropped and from then on only every second new one is taken (the
/// stride doubles). A graph of a million segments keeps what a page can draw, in bounded memory.
/// </summary>
internal sealed class ThinningList<T>(int capacity) where T : struct
{
    private readonly List<T> _items = [];
    private long _seen;
    private long _stride = 1;

    public IReadOnlyList<T> Items => _items;
    /// <summary>Every point offered, kept or not.</summary>
    public long Seen => _seen;

    public void Add(in T item)
    {
        long i = _seen++;
        if (i % _stride != 0) return;
        if (_items.Count == capacity)
        {
            int k = 0;
            for (int j = 0; j < _items.Count; j += 2) _items[k++] = _items[j];
            _items.RemoveRange(k, _items.Count - k);
            _stride *= 2;
            if (i % _stride != 0) return;
        }
        _items.Add(item);
    }
}

/// <summary>
/// Bytes summed into time buckets whose width doubles (neighbours merged) whenever time runs past the
/// last: a fixed number of buckets whatever the conversation's length, re-binned to the graph's axis at the end.
/// </summary>
internal sealed class TimeBuckets(double start)
{
    private const int Count = 2048;
    private readonly double[] _bytes = new double[Count];
    private double _width = 1e-3;

    public void Add(double time, double bytes)
    {
        double offset = Math.Max(0, time - start);
        while (offset / _width >= Count)
        {
            for (int i = 0; i < Count / 2; i++) _bytes[i] = _bytes[2 * i] + _bytes[2 * i + 1];
            Array.Clear(_bytes, Count / 2, Count / 2);
            _width *= 2;
        }
        _bytes[(int)(offset / _width)] += bytes;
    }

    /// <summary>The bytes in <paramref name="buckets"/> equal slices of [start, end], each fine bucket counted where its middle falls.</summary>
    public double[] Rebin(double end, int buckets)
    {
        var r = new double[buckets];
        double span = Math.Max(end - start, 1e-9);
        for (int i = 0; i < Count; i++)
        {
            if (_bytes[i] == 0) continue;
            int k = (int)(((i + 0.5) * _width) / span * buckets);
            r[Math.Clamp(k, 0, buckets - 1)] += _bytes[i];
        }
        return r;
    }
}
