namespace Synack.Analysis;

internal readonly record struct FragmentKey(Synack.Wire.IpAddr Source, Synack.Wire.IpAddr Destination, uint Id, byte Protocol);

/// <summary>
/// IP fragments waiting for the rest of their datagram, as Wireshark reassembles them: the datagram
/// belongs to the frame whose fragment completed it. Bounded three ways — at most
/// <see cref="MaxDatagrams"/> datagrams wait, none grows past 64 KiB (IPv4's limit; IPv6's without a
/// jumbogram), and one that is still incomplete <see cref="MaxAgeFrames"/> frames later is dropped —
/// so a capture full of fragments that never complete costs a fixed amount of memory.
/// </summary>
internal sealed class FragmentTable
{
    public const int MaxDatagrams = 256;
    public const int MaxAgeFrames = 100_000;
    private const int MaxLength = 65_535;

    private readonly Dictionary<FragmentKey, Pending> _pending = [];

    /// <summary>Datagrams given up on: too old, too long, overlapping inconsistently, or pushed out by newer ones.</summary>
    public long Abandoned { get; private set; }

    /// <summary>Adds a fragment; returns the whole payload when this one completes it, else null.</summary>
    public byte[]? Add(FragmentKey key, int offset, bool more, ReadOnlySpan<byte> data, int frame)
    {
        if (offset + data.Length > MaxLength)
        {
            if (_pending.Remove(key)) Abandoned++;
            return null;
        }
        if (!_pending.TryGetValue(key, out var p))
        {
            if (_pending.Count >= MaxDatagrams) Evict(frame);
            p = new Pending { FirstFrame = frame };
            _pending[key] = p;
        }
        p.Write(offset, data);
        if (!more) p.Total = offset + data.Length;
        if (p.Total is int total && p.Covered(total))
        {
            _pending.Remove(key);
            return p.Buffer.AsSpan(0, total).ToArray();
        }
        return null;
    }

    private void Evict(int frame)
    {
        // The oldest go first; anything past its age goes anyway.
        FragmentKey? oldest = null;
        int oldestFrame = int.MaxValue;
        List<FragmentKey>? stale = null;
        foreach (var (k, v) in _pending)
        {
            if (frame - v.FirstFrame > MaxAgeFrames) (stale ??= []).Add(k);
            if (v.FirstFrame < oldestFrame)
            {
                oldestFrame = v.FirstFrame;
                oldest = k;
            }
        }
        if (stale is not null)
        {
            foreach (var k in stale) _pending.Remove(k);
            Abandoned += stale.Count;
        }
        else if (oldest is FragmentKey o)
        {
            _pending.Remove(o);
            Abandoned++;
        }
    }

    private sealed class Pending
    {
        public int FirstFrame;
        public int? Total;
        public byte[] Buffer = new byte[1500];
        private readonly List<(int Start, int End)> _ranges = [];

        public void Write(int offset, ReadOnlySpan<byte> data)
        {
            int end = offset + data.Length;
            if (end > Buffer.Length) Array.Resize(ref Buffer, Math.Min(MaxLength, Math.Max(end, Buffer.Length * 2)));
            data.CopyTo(Buffer.AsSpan(offset));
            if (_ranges.Count < 1024) _ranges.Add((offset, end));
        }

        public bool Covered(int total)
        {
            _ranges.Sort();
            int reach = 0;
            foreach (var (s, e) in _ranges)
            {
                if (s > reach) return false;
                reach = Math.Max(reach, e);
            }
            return reach >= total;
        }
    }
}
