using System.Buffers.Binary;
using System.Globalization;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Conformance;

// The script's packets: what we inject, and how a sent packet is held to the script's line.
internal sealed partial class ScriptRun
{
    // ------------------------------------------------------------------ packets

    /// <param name="latest">The end of the window the packet may go in (<c>+.3~+.4</c>); null: at <paramref name="at"/>.</param>
    private TimeSpan ExpectOutbound(ScriptEvent e, TimeSpan? at, TimeSpan? latest = null)
    {
        var script = ScriptPacket.Parse(e.Text);
        var upper = latest ?? at;
        var deadline = upper is TimeSpan a ? a + _tolerance : _now + AnyTimeLimit;
        if (_sent.Count == 0) RunUntil(Max(deadline, _now), stopOnPacket: true);
        if (_sent.Count == 0)
        {
            throw new ScriptFailure(e.Line, "expected packet not sent", e.Text, $"nothing sent by {Seconds(deadline)}");
        }
        var (t, bytes) = _sent.Dequeue();
        _transcript.Add($"{Seconds(t),-9} line {e.Line}: {e.Text}");
        if (at is TimeSpan expected && (t < expected - _tolerance || t > (latest ?? expected) + _tolerance))
        {
            string when = latest is TimeSpan end ? $"between {Seconds(expected)} and {Seconds(end)}" : $"at {Seconds(expected)}";
            throw new ScriptFailure(e.Line, $"packet sent at {Seconds(t)}, expected {when} (tolerance {_tolerance.TotalMilliseconds:0.###} ms)", e.Text, Describe(bytes, t));
        }
        if (OnKernel && !_strictSegments && script.Length > 0) bytes = CutToLine(bytes, script.Length, t);
        var (length, flags, merged) = _linux && !(OnKernel && _strictSegments) ? Coalesce(bytes, script.Length, t) : (null, null, 0);
        var mismatch = Compare(script, bytes, length, flags); // learns our ISN from a SYN: observe after it
        _observed.Add(new ScriptObservation(e.Line, Observed(bytes, length, flags), t.TotalSeconds));
        if (mismatch is not null)
        {
            string actual = Describe(bytes, t) + (merged > 0 ? $" and {merged} more segment{(merged == 1 ? "" : "s")} sent with it ({length} bytes in all)" : "");
            throw new ScriptFailure(e.Line, mismatch, e.Text, actual);
        }
        return t;
    }

    /// <summary>
    /// Google's packetdrill runs over a TUN device with segmentation offload, so Linux hands it one
    /// large TSO packet where a stack without offload sends several segments in the same instant: a
    /// script line of 10,000 bytes stands for ten 1,000-byte segments. The segments that follow
    /// <paramref name="first"/> at the same moment, contiguous, with the same ACK, are taken into the
    /// line up to its length; PSH and FIN come from the last (as Linux's GSO leaves them).
    /// </summary>
    private (int? Length, TcpFlags? Flags, int Merged) Coalesce(byte[] first, int wanted, TimeSpan at)
    {
        if (!TcpPacket.TryParse(first, out var ip, out var tcp, out _)) return (null, null, 0);
        int length = TcpPacket.Payload(first, ip, tcp).Length;
        if (length == 0 || length >= wanted || (tcp.Flags & (TcpFlags.Syn | TcpFlags.Rst | TcpFlags.Fin)) != 0) return (null, null, 0);
        if (OnKernel) DrainKernel(1); // the rest of the burst may still be on its way out of the device
        var flags = tcp.Flags;
        var next = tcp.Seq + length;
        int merged = 0;
        var previous = at;
        while (length < wanted)
        {
            // TCP small queues hold a burst back until the device has taken what went before: the rest
            // comes as we read, so on a live kernel wait for each next packet a moment.
            if (_sent.Count == 0 && OnKernel) DrainKernel(1);
            if (_sent.Count == 0) break;
            var (t, bytes) = _sent.Peek();
            // One burst: the same instant on virtual time; on a live kernel, each packet read within a
            // millisecond of the one before.
            bool burst = OnKernel ? (t - previous).Duration() <= TimeSpan.FromMilliseconds(1) : t == at;
            previous = t;
            if (!burst || !TcpPacket.TryParse(bytes, out var ip2, out var seg, out _)) break;
            int len = TcpPacket.Payload(bytes, ip2, seg).Length;
            if (OnKernel && len > 0 && length + len > wanted && seg.Seq == next && seg.Ack == tcp.Ack)
            {
                // The line ends inside this packet: take what it needs; the rest waits for the next line.
                _sent.Dequeue();
                CutToLine(bytes, wanted - length, t);
                merged++;
                length = wanted;
                flags &= ~TcpFlags.Psh;
                break;
            }
            if (len == 0 || seg.Seq != next || seg.Ack != tcp.Ack || length + len > wanted
                || (seg.Flags & (TcpFlags.Syn | TcpFlags.Rst)) != 0 || (seg.Flags & ~(TcpFlags.Psh | TcpFlags.Fin)) != (tcp.Flags & ~TcpFlags.Psh)) break;
            _sent.Dequeue();
            merged++;
            length += len;
            next += len;
            flags = (flags & ~TcpFlags.Psh) | (seg.Flags & (TcpFlags.Psh | TcpFlags.Fin));
            if (seg.Flags.Has(TcpFlags.Fin)) break;
        }
        return merged == 0 ? (null, null, 0) : (length, flags, merged);
    }

    /// <summary>
    /// On a live kernel, where a TSO packet ends is the kernel's sizing (pacing, tcp_tso_autosize, the
    /// kernel's version), not TCP behaviour: a data packet longer than the script's line is cut at the
    /// line's length, and the rest is put back at the front of the queue for the next line, as the
    /// segments would have gone on a wire. PSH and FIN stay with the rest.
    /// </summary>
    private byte[] CutToLine(byte[] packet, int keep, TimeSpan at)
    {
        if (!TcpPacket.TryParse(packet, out var ip, out var tcp, out _)) return packet;
        int headers = ip.HeaderLength + tcp.HeaderLength;
        int payload = packet.Length - headers;
        if (keep <= 0 || payload <= keep) return packet;
        var head = Resize(packet.AsSpan(0, headers + keep), ip, tcp.Flags & ~(TcpFlags.Psh | TcpFlags.Fin), tcp.Seq);
        var tail = new byte[packet.Length - keep];
        packet.AsSpan(0, headers).CopyTo(tail);
        packet.AsSpan(headers + keep).CopyTo(tail.AsSpan(headers));
        tail = Resize(tail, ip, tcp.Flags, tcp.Seq + keep);
        var rest = _sent.ToArray();
        _sent.Clear();
        _sent.Enqueue((at, tail));
        foreach (var r in rest) _sent.Enqueue(r);
        return head;
    }

    private static byte[] Resize(ReadOnlySpan<byte> source, IpHeader ip, TcpFlags flags, SeqNum seq)
    {
        var p = source.ToArray();
        if (ip.Source.IsV6) BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(4), (ushort)(p.Length - IpHeader.Ipv6Length));
        else
        {
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(2), (ushort)p.Length);
            p[10] = p[11] = 0;
            BinaryPrimitives.WriteUInt16BigEndian(p.AsSpan(10), InternetChecksum.Compute(p.AsSpan(0, ip.HeaderLength)));
        }
        var tcp = p.AsSpan(ip.HeaderLength);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], seq.Value);
        tcp[13] = (byte)flags;
        InternetChecksum.FillTcp(ip.Source, ip.Destination, tcp);
        return p;
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.000###", CultureInfo.InvariantCulture) + " s";

    private uint LocalOffset => unchecked(_liveLocalIsn - _scriptLocalIsn);

    /// <summary>Compares a sent packet with the script's; returns what differs, or null.</summary>
    /// <param name="length">The payload length when segments were coalesced into this one (see <see cref="Coalesce"/>).</param>
    private string? Compare(ScriptPacket s, byte[] bytes, int? length = null, TcpFlags? coalescedFlags = null)
    {
        if (!TcpPacket.TryParse(bytes, out var ip, out var tcp, out var err)) return $"the stack sent a malformed packet ({err})";
        var payload = TcpPacket.Payload(bytes, ip, tcp);
        int payloadLength = length ?? payload.Length;
        var liveFlags = coalescedFlags ?? tcp.Flags;
        if (s.Flags.Has(TcpFlags.Syn) && !s.Absolute)
        {
            // Our ISN is ours to choose: the script's numbers are relative to it from here on.
            _liveLocalIsn = tcp.Seq.Value;
            _scriptLocalIsn = s.AnySequence ? 0 : s.Seq;
        }
        if (s.Ecn is EcnCodepoint mark && tcp.Ecn != mark) return $"ECN field {EcnMark(tcp.Ecn)} instead of {EcnMark(mark)}";
        if (s.AnyEct && tcp.Ecn is not (EcnCodepoint.Ect0 or EcnCodepoint.Ect1)) return $"ECN field {EcnMark(tcp.Ecn)} instead of [ect01]";
        if (s.TrafficClass is byte tc && ((tcp.Dscp << 2) | (byte)tcp.Ecn) != tc) return $"traffic class 0x{(tcp.Dscp << 2) | (byte)tcp.Ecn:x2} instead of 0x{tc:x2}";
        if (s.HopLimit is byte hl && tcp.HopLimit != hl) return $"TTL {tcp.HopLimit} instead of {hl}";
        // On a burst taken as one TSO packet, where PSH lands is Linux's way of cutting its packets, which
        // has no counterpart in a stack that sends MSS-sized segments: it is not compared.
        if (length is not null) liveFlags = (liveFlags & ~TcpFlags.Psh) | (s.Flags & TcpFlags.Psh);
        if (liveFlags != s.Flags) return $"flags {ScriptPacket.FlagText(liveFlags)} instead of {ScriptPacket.FlagText(s.Flags)}";
        uint seq = s.Absolute ? tcp.Seq.Value : unchecked(tcp.Seq.Value - LocalOffset);
        if (!s.AnySequence && seq != s.Seq) return $"sequence number {seq} instead of {s.Seq}";
        if (payloadLength != s.Length) return $"{payloadLength} bytes of data instead of {s.Length}";
        if (s.Ack is uint ack)
        {
            uint liveAck = tcp.Ack.Value;
            if (liveAck != ack) return $"ack {liveAck} instead of {ack}";
        }
        if (s.Window is ushort win && tcp.Window != win) return $"window {tcp.Window} instead of {win}";
        if (s.AnyOptions) return null;
        int optLen = tcp.HeaderLength - TcpHeader.MinLength;
        int ipLen = bytes.Length - payload.Length - tcp.HeaderLength;
        var live = ScriptPacket.ReadWireOptions(bytes.AsSpan(ipLen + TcpHeader.MinLength, optLen));
        var want = s.Options ?? [];
        string liveText = string.Join(",", live);
        string wantText = string.Join(",", want);
        if (live.Count != want.Count) return $"options <{liveText}> instead of <{wantText}>";
        for (int i = 0; i < want.Count; i++)
        {
            var w = want[i];
            var l = live[i];
            if (w.Kind != l.Kind) return $"options <{liveText}> instead of <{wantText}>";
            switch (w.Kind)
            {
                case TcpOptionKind.Mss or TcpOptionKind.WindowScale when w.A != l.A:
                    return $"options <{liveText}> instead of <{wantText}>";
                case TcpOptionKind.Timestamps:
                    // TS val is our clock: remember which live value the script calls what, for the ecr it sends back.
                    _tsVals[w.A] = l.A;
                    if (w.B != l.B) return $"TS ecr {l.B} instead of {w.B}";
                    break;
                case TcpOptionKind.Sack:
                    var wb = w.Blocks ?? [];
                    var lb = l.Blocks ?? [];
                    if (wb.Length != lb.Length || !wb.SequenceEqual(lb)) return $"options <{liveText}> instead of <{wantText}>";
                    break;
            }
        }
        return null;
    }

    private void Inject(ScriptEvent e)
    {
        if (ScriptIcmp.IsIcmp(e.Text))
        {
            EnsureStack();
            var icmp = ScriptIcmp.Parse(e.Text, _v6);
            var bytes = icmp.Build(_remote, _local, _localPort, _remotePort, unchecked(icmp.QuotedSeq + LocalOffset));
            Record(bytes, PacketDirection.Inbound, $"line {e.Line}: {e.Text}");
            if (OnKernel) _kernel!.Inject(bytes);
            else _stack!.Receive(bytes, _now);
            return;
        }
        var s = ScriptPacket.Parse(e.Text);
        if (s.AnySequence) throw new ScriptFailure(e.Line, "an injected packet needs a sequence number, not ...", e.Text);
        if (s.Flags.Has(TcpFlags.Syn) && s.Options?.FirstOrDefault(o => o.Kind == TcpOptionKind.Mss) is { } mss) _peerMss = (int)mss.A;
        EnsureStack();
        var h = new TcpHeader
        {
            SourcePort = _remotePort,
            DestinationPort = _localPort,
            Seq = new SeqNum(s.Seq),
            // An ACK flag without an ack number is relative 0 in Google's dialect (packetdrill maps it like any other).
            Ack = new SeqNum(s.Ack is uint a ? (s.Absolute ? a : unchecked(a + LocalOffset)) : _linux && s.Flags.Has(TcpFlags.Ack) ? LocalOffset : 0),
            Flags = s.Flags,
            Window = s.Window ?? 0,
        };
        Span<byte> opt = stackalloc byte[TcpOptions.MaxLength];
        int optLen = s.Options is { } list
            ? ScriptPacket.WriteOptions(opt, list, v => s.Absolute ? v : unchecked(v + LocalOffset), ecr => _recording ? _lastLiveTsVal : _tsVals.TryGetValue(ecr, out var live) ? live : ecr)
            : 0;
        if (optLen % 4 != 0) throw new ScriptFailure(e.Line, "options do not fill whole 32-bit words", e.Text);
        int tcpLen = TcpHeader.MinLength + optLen + s.Length;
        int ipLen = _v6 ? IpHeader.Ipv6Length : IpHeader.Ipv4MinLength;
        var packet = new byte[ipLen + tcpLen];
        var ecn = s.Ecn ?? (s.AnyEct ? EcnCodepoint.Ect0 : s.TrafficClass is byte tc ? (EcnCodepoint)(tc & 3) : EcnCodepoint.NotEct);
        IpHeader.Write(packet, _remote, _local, 6, tcpLen, hopLimit: s.HopLimit ?? 64, ecn: ecn, dscp: (byte)((s.TrafficClass ?? 0) >> 2));
        var seg = packet.AsSpan(ipLen);
        BinaryPrimitives.WriteUInt16BigEndian(seg, h.SourcePort);
        BinaryPrimitives.WriteUInt16BigEndian(seg[2..], h.DestinationPort);
        BinaryPrimitives.WriteUInt32BigEndian(seg[4..], h.Seq.Value);
        BinaryPrimitives.WriteUInt32BigEndian(seg[8..], h.Ack.Value);
        seg[12] = (byte)(((TcpHeader.MinLength + optLen) / 4) << 4);
        seg[13] = (byte)h.Flags;
        BinaryPrimitives.WriteUInt16BigEndian(seg[14..], h.Window);
        opt[..optLen].CopyTo(seg[TcpHeader.MinLength..]);
        // The payload is zeros; scripts give lengths, not bytes.
        InternetChecksum.FillTcp(_remote, _local, seg);
        Record(packet, PacketDirection.Inbound, $"line {e.Line}: {e.Text}");
        // Google's packetdrill cooks a packet longer than --mss as a GRO packet of mss-sized segments.
        if (OnKernel) _kernel!.Inject(packet, _linux && _groSegmentSize > 0 && s.Length > _groSegmentSize ? _groSegmentSize : 0);
        else if (_linux && _groSegmentSize > 0 && s.Length > _groSegmentSize) _stack!.Receive(packet, _now, _groSegmentSize, checksumOffloaded: false);
        else _stack!.Receive(packet, _now);
    }

    /// <summary>
    /// A sent packet as two stacks can be compared on it: the script's notation without the time, with
    /// TS val (each stack's own clock) left out and a coalesced burst's length and flags.
    /// </summary>
    private string Observed(byte[] bytes, int? length, TcpFlags? flags)
    {
        if (!TcpPacket.TryParse(bytes, out var ip, out var tcp, out var err)) return $"malformed packet ({err})";
        int len = length ?? TcpPacket.Payload(bytes, ip, tcp).Length;
        var f = flags ?? tcp.Flags;
        // Where PSH falls inside a burst is the sender's way of cutting it (TSO or not): compared only on
        // a line that is one segment.
        if (len > _peerMss) f &= ~TcpFlags.Psh;
        uint seq = unchecked(tcp.Seq.Value - LocalOffset);
        var text = $"> {ScriptPacket.FlagText(f)} {seq}:{unchecked(seq + (uint)len)}({len})";
        if (f.Has(TcpFlags.Ack)) text += $" ack {tcp.Ack.Value}";
        text += $" win {tcp.Window}";
        int ipLen = bytes.Length - TcpPacket.Payload(bytes, ip, tcp).Length - tcp.HeaderLength;
        var opts = ScriptPacket.ReadWireOptions(bytes.AsSpan(ipLen + TcpHeader.MinLength, tcp.HeaderLength - TcpHeader.MinLength));
        if (opts.Count > 0) text += " <" + Normalized(string.Join(",", opts)) + ">";
        if (tcp.Ecn != EcnCodepoint.NotEct) text += " " + EcnMark(tcp.Ecn);
        return text;
    }

    private int _peerMss = 536; // the MSS the script's SYN offered: a longer line is a burst

    /// <summary>A failure's text without its times (each stack's own clock and tolerance): what failed is compared, not when.</summary>
    private static string Untimed(string text) =>
        System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Replace(text, @"\(tolerance [0-9.]+ ms\)", "(tolerance)"), @"[0-9]+(\.[0-9]+)? s\b", "T s");

    /// <summary>Text with each stack's own numbers (TS val, times) taken out.</summary>
    private static string Normalized(string text) =>
        System.Text.RegularExpressions.Regex.Replace(System.Text.RegularExpressions.Regex.Replace(text, @"TS val [0-9]+", "TS val *"), @"^[0-9.]+ s ", "");

    /// <summary>A sent packet in the script's own notation, numbers relative as the script writes them.</summary>
    private string Describe(byte[] bytes, TimeSpan at)
    {
        if (!TcpPacket.TryParse(bytes, out var ip, out var tcp, out var err)) return $"malformed packet ({err})";
        var payload = TcpPacket.Payload(bytes, ip, tcp);
        uint seq = unchecked(tcp.Seq.Value - LocalOffset);
        var text = $"{Seconds(at)} >{(tcp.Ecn == EcnCodepoint.NotEct ? "" : EcnMark(tcp.Ecn))} {ScriptPacket.FlagText(tcp.Flags)} {seq}:{unchecked(seq + (uint)payload.Length)}({payload.Length})";
        if (tcp.Flags.Has(TcpFlags.Ack)) text += $" ack {tcp.Ack.Value}";
        text += $" win {tcp.Window}";
        int ipLen = bytes.Length - payload.Length - tcp.HeaderLength;
        var opts = ScriptPacket.ReadWireOptions(bytes.AsSpan(ipLen + TcpHeader.MinLength, tcp.HeaderLength - TcpHeader.MinLength));
        if (opts.Count > 0) text += " <" + string.Join(",", opts) + ">";
        return text;
    }

    private void EnsureStack()
    {
        if (_stack is not null || OnKernel) return;
        _stack = new NetworkStack(new StackOptions
        {
            Name = "synack",
            Addresses = [_local],
            Connection = _options,
            // Fixed secrets: the same script gives the same run.
            Secret = new byte[32],
            IsnGenerator = _isns is { Count: > 0 } isns ? new ReplayedIsns(isns) : null,
            EphemeralPortMin = 40000,
            EphemeralPortMax = 40999,
        });
        _stack.Output = new Capture(this);
        _stack.Advance(_now);
    }

    private sealed class Capture(ScriptRun run) : IPacketSink
    {
        public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
        {
            var bytes = packet.ToArray();
            run._sent.Enqueue((run._now, bytes));
            run.Record(bytes, PacketDirection.Outbound, null);
            run._transcript.Add("          sent " + run.Describe(bytes, run._now));
        }
    }

    private static string EcnMark(EcnCodepoint e) => e switch
    {
        EcnCodepoint.NotEct => "[noecn]",
        EcnCodepoint.Ect0 => "[ect0]",
        EcnCodepoint.Ect1 => "[ect1]",
        _ => "[ce]",
    };
}
