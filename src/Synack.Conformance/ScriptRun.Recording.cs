using Synack.Wire;

namespace Synack.Conformance;

// Recording: a generated scenario says only what the peer sends and what the application calls; what
// the stack sends and returns is written down, not held to a line, so two stacks can be compared on a
// scenario nobody wrote the answers to.
internal sealed partial class ScriptRun
{
    private readonly bool _recording;
    private readonly List<uint> _isnsSent = [];
    private uint _lastLiveTsVal; // what the peer echoes: the newest TS val the stack sent
    private TimeSpan _lastActivity; // the last event run or packet sent: a packet long after it came from a timer

    /// <summary>
    /// Takes every packet the stack has sent so far into the observations, in the order sent. A TSO
    /// packet from the kernel is cut as the NIC would cut it (its gso_size, flags as Linux's GSO leaves
    /// them), so a burst reads the same from a stack that sends each segment itself.
    /// </summary>
    private void ObserveSent()
    {
        if (OnKernel) DrainKernel(0);
        while (_sent.TryDequeue(out var item))
        {
            var (t, bytes) = item;
            var idle = t > _lastActivity ? t - _lastActivity : TimeSpan.Zero;
            if (t > _lastActivity) _lastActivity = t;
            if (TcpPacket.TryParse(bytes, out var ip, out var tcp, out _))
            {
                // Each connection's ISN, once (a retransmitted SYN repeats it): Synack's run is given the same.
                if (tcp.Flags.Has(TcpFlags.Syn) && (_isnsSent.Count == 0 || _isnsSent[^1] != tcp.Seq.Value))
                {
                    if (_isnsSent.Count == 0)
                    {
                        // Numbers are relative to the stack's ISN from its first SYN on, as a script's are.
                        _liveLocalIsn = tcp.Seq.Value;
                        _scriptLocalIsn = 0;
                    }
                    _isnsSent.Add(tcp.Seq.Value);
                }
                if (tcp.Options.HasTimestamps) _lastLiveTsVal = tcp.Options.TsVal;
                int segment = _segmentSizes.TryGetValue(bytes, out int size) ? size : 0;
                int payload = TcpPacket.Payload(bytes, ip, tcp).Length;
                if (segment > 0 && payload > segment)
                {
                    for (int off = 0; off < payload; off += segment)
                    {
                        int len = Math.Min(segment, payload - off);
                        bool last = off + len == payload;
                        var flags = last ? tcp.Flags : tcp.Flags & ~(TcpFlags.Psh | TcpFlags.Fin);
                        if (off > 0) flags &= ~TcpFlags.Cwr;
                        var piece = Piece(bytes, ip, tcp, off, len, flags);
                        _observed.Add(new ScriptObservation(0, Observed(piece, null, null), t.TotalSeconds) { Idle = idle });
                    }
                    continue;
                }
            }
            _observed.Add(new ScriptObservation(0, Observed(bytes, null, null), t.TotalSeconds) { Idle = idle });
        }
        _segmentSizes.Clear();
    }

    // TSO packets read from the device, by identity, with the size the NIC would cut them to.
    private readonly Dictionary<byte[], int> _segmentSizes = new(ReferenceEqualityComparer.Instance);

    private static byte[] Piece(byte[] packet, IpHeader ip, TcpHeader tcp, int offset, int length, TcpFlags flags)
    {
        int headers = ip.HeaderLength + tcp.HeaderLength;
        var piece = new byte[headers + length];
        packet.AsSpan(0, headers).CopyTo(piece);
        packet.AsSpan(headers + offset, length).CopyTo(piece.AsSpan(headers));
        return Resize(piece, ip, flags, tcp.Seq + offset);
    }

    /// <summary>What a recorded call returned, as a line of the script would say it.</summary>
    private void Record(ScriptEvent e, ScriptSyscall call, long result, string? errno)
    {
        string have = errno is null ? result.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"-1 {(errno == "EAGAIN" ? "EWOULDBLOCK" : errno)}";
        _observed.Add(new ScriptObservation(e.Line, $"{call.Name}() = {have}"));
    }
}
