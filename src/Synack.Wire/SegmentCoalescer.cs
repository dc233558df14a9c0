using System.Buffers.Binary;

namespace Synack.Wire;

/// <summary>
/// Segmentation offload for a link: consecutive data segments of one connection, sent in one burst,
/// become one packet of up to 64 KB that the other side takes whole (GRO) or cuts back into
/// MSS-sized segments (GSO) — one write or one hand-over instead of dozens. Only what such a cut
/// restores exactly is joined: same addresses, ports, ACK, window, options and IP fields; sequence
/// numbers that follow on; every segment but the last a full one; no SYN, RST, URG or CWR; PSH and
/// FIN only on the last (where GSO leaves them). The TCP checksum of a joined packet is left
/// partial (the pseudo-header's sum), for the side that cuts it to finish, as on any offloading NIC.
/// </summary>
public sealed class SegmentCoalescer(int headroom = 0)
{
    private const int MaxPacket = 65535;
    private readonly int _headroom = headroom;
    private byte[] _buffer = new byte[headroom + MaxPacket];
    private int _length;      // the IP packet so far (after the headroom)
    private int _ipLength, _headerLength;
    private int _segments, _segmentSize, _lastSize;
    private bool _v6;
    private uint _nextSeq;

    /// <summary>True when no packet is being built.</summary>
    public bool IsEmpty => _segments == 0;
    /// <summary>The payload size of every segment but the last: the size to cut the packet back into.</summary>
    public int SegmentSize => _segmentSize;
    /// <summary>True when the packet being built is IPv6.</summary>
    public bool IsV6 => _v6;
    /// <summary>The length of the IP header of the packet being built.</summary>
    public int IpHeaderLength => _ipLength;
    /// <summary>The length of the IP and TCP headers of the packet being built.</summary>
    public int HeaderLength => _headerLength;
    /// <summary>Packets joined so far into the one being built.</summary>
    public int Segments => _segments;

    /// <summary>Takes <paramref name="packet"/> into the packet being built, or starts one with it; false when it cannot join.</summary>
    /// <param name="segmentSize">The packet is already a TSO segment of pieces this size (0: one segment).</param>
    public bool TryAppend(ReadOnlySpan<byte> packet, int segmentSize = 0)
    {
        if (!Parse(packet, out bool v6, out int ipLength, out int tcpLength, out var flags, out uint seq)) return false;
        int headerLength = ipLength + tcpLength;
        int payload = packet.Length - headerLength;
        if (payload <= 0 || (flags & (TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Urg | TcpFlags.Cwr)) != 0) return false;
        int size = segmentSize > 0 ? segmentSize : payload;
        int pieces = (payload + size - 1) / size;
        int last = payload - (pieces - 1) * size;
        var packetOut = _buffer.AsSpan(_headroom);
        if (_segments == 0)
        {
            packet.CopyTo(packetOut);
            _length = packet.Length;
            _v6 = v6;
            _ipLength = ipLength;
            _headerLength = headerLength;
            _segments = pieces;
            _segmentSize = size;
            _lastSize = last;
            _nextSeq = seq + (uint)payload;
            return true;
        }
        var built = packetOut[.._length];
        var lastFlags = (TcpFlags)built[_ipLength + 13];
        if (v6 != _v6 || headerLength != _headerLength || ipLength != _ipLength || seq != _nextSeq
            || _lastSize != _segmentSize || (segmentSize > 0 ? segmentSize != _segmentSize : payload > _segmentSize) || _length + payload > MaxPacket
            || (lastFlags & TcpFlags.Fin) != 0)
        {
            return false;
        }
        if (!SameHeaders(built, packet, v6, ipLength, tcpLength)) return false;
        packet[headerLength..].CopyTo(packetOut[_length..]);
        _length += payload;
        _segments += pieces;
        _lastSize = last;
        _nextSeq = seq + (uint)payload;
        // PSH and FIN of the last segment are the packet's: GSO puts them on its last cut.
        built[_ipLength + 13] = (byte)(((TcpFlags)built[_ipLength + 13] & ~(TcpFlags.Psh | TcpFlags.Fin)) | (flags & (TcpFlags.Psh | TcpFlags.Fin)));
        return true;
    }

    /// <summary>
    /// The packet (after <c>headroom</c> bytes left for the caller's own header), its lengths fixed and,
    /// when joined, its TCP checksum the pseudo-header's sum over the whole length; then the builder
    /// is empty again (read <see cref="SegmentSize"/> and the rest before the next append).
    /// </summary>
    public Span<byte> Complete()
    {
        var packet = _buffer.AsSpan(_headroom, _length);
        if (_segments > 1)
        {
            if (_v6)
            {
                BinaryPrimitives.WriteUInt16BigEndian(packet[4..], (ushort)(_length - IpHeader.Ipv6Length));
            }
            else
            {
                BinaryPrimitives.WriteUInt16BigEndian(packet[2..], (ushort)_length);
                packet[10] = packet[11] = 0;
                BinaryPrimitives.WriteUInt16BigEndian(packet[10..], InternetChecksum.Compute(packet[.._ipLength]));
            }
            int tcpTotal = _length - _ipLength;
            uint sum = InternetChecksum.Add(0, _v6 ? packet.Slice(8, 32) : packet.Slice(12, 8)) + InternetChecksum.ProtocolTcp + (uint)tcpTotal;
            BinaryPrimitives.WriteUInt16BigEndian(packet[(_ipLength + 16)..], InternetChecksum.FoldPartial(sum));
        }
        _segments = 0;
        return _buffer.AsSpan(0, _headroom + _length);
    }

    /// <summary>The size a buffer given to <see cref="TakeBuffer"/> must have at least.</summary>
    public int BufferSize => _headroom + MaxPacket;

    /// <summary>
    /// Hands over the buffer <see cref="Complete"/> returned a view of, and builds into
    /// <paramref name="replacement"/> from now on: a packet can then be written after the builder has
    /// moved on (outside a lock, say) without being copied.
    /// </summary>
    public byte[] TakeBuffer(byte[] replacement)
    {
        ArgumentNullException.ThrowIfNull(replacement);
        if (replacement.Length < BufferSize) throw new ArgumentException($"the buffer needs at least {BufferSize} bytes", nameof(replacement));
        if (_segments != 0) throw new InvalidOperationException("a packet is being built: complete it first");
        var taken = _buffer;
        _buffer = replacement;
        return taken;
    }

    /// <summary>The IP header's length when <paramref name="p"/> is a TCP packet, else 0.</summary>
    public static int TcpHeaderOffset(ReadOnlySpan<byte> p)
    {
        if (p.Length < 40) return 0;
        if (p[0] >> 4 == 4 && p[9] == 6) return (p[0] & 0xf) * 4;
        if (p[0] >> 4 == 6 && p[6] == 6 && p.Length >= IpHeader.Ipv6Length + 20) return IpHeader.Ipv6Length;
        return 0;
    }

    /// <summary>IPv4 without options or fragments, or IPv6 with TCP as the next header; the TCP header whole.</summary>
    private static bool Parse(ReadOnlySpan<byte> p, out bool v6, out int ipLength, out int tcpLength, out TcpFlags flags, out uint seq)
    {
        v6 = false;
        ipLength = tcpLength = 0;
        flags = 0;
        seq = 0;
        if (p.Length < 20) return false;
        int version = p[0] >> 4;
        if (version == 4)
        {
            ipLength = (p[0] & 0xf) * 4;
            if (ipLength != 20 || p[9] != 6 || BinaryPrimitives.ReadUInt16BigEndian(p[2..]) != p.Length) return false;
            if ((BinaryPrimitives.ReadUInt16BigEndian(p[6..]) & 0x3fff) != 0) return false; // a fragment
        }
        else if (version == 6)
        {
            v6 = true;
            ipLength = IpHeader.Ipv6Length;
            if (p.Length < ipLength + 20 || p[6] != 6 || BinaryPrimitives.ReadUInt16BigEndian(p[4..]) != p.Length - ipLength) return false;
        }
        else
        {
            return false;
        }
        if (p.Length < ipLength + 20) return false;
        tcpLength = (p[ipLength + 12] >> 4) * 4;
        if (tcpLength < 20 || p.Length < ipLength + tcpLength) return false;
        flags = (TcpFlags)p[ipLength + 13];
        seq = BinaryPrimitives.ReadUInt32BigEndian(p[(ipLength + 4)..]);
        return true;
    }

    /// <summary>Everything but lengths, checksums, the IPv4 ID, the sequence number and PSH/FIN must match for the kernel's cut to give back these segments.</summary>
    private static bool SameHeaders(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b, bool v6, int ipLength, int tcpLength)
    {
        if (v6)
        {
            if (!a[..4].SequenceEqual(b[..4]) || !a.Slice(6, 34).SequenceEqual(b.Slice(6, 34))) return false; // class, flow, next header, hop limit, addresses
        }
        else
        {
            if (a[1] != b[1] || a[6] != b[6] || a[8] != b[8] || a[9] != b[9] || !a.Slice(12, 8).SequenceEqual(b.Slice(12, 8))) return false; // TOS, DF, TTL, protocol, addresses
        }
        var ta = a.Slice(ipLength, tcpLength);
        var tb = b.Slice(ipLength, tcpLength);
        return ta[..4].SequenceEqual(tb[..4])                           // ports
            && ta.Slice(8, 4).SequenceEqual(tb.Slice(8, 4))             // ack
            && ta[12] == tb[12]                                         // data offset
            && ((TcpFlags)ta[13] & ~(TcpFlags.Psh | TcpFlags.Fin)) == ((TcpFlags)tb[13] & ~(TcpFlags.Psh | TcpFlags.Fin))
            && ta.Slice(14, 2).SequenceEqual(tb.Slice(14, 2))           // window
            && ta[20..].SequenceEqual(tb[20..]);                        // options (timestamps of one millisecond)
    }
}
