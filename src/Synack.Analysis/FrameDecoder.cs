using System.Buffers.Binary;
using Synack.Wire;

namespace Synack.Analysis;

/// <summary>What a frame turned out to carry.</summary>
internal enum FrameKind : byte
{
    Tcp,
    /// <summary>IP, but not TCP (UDP, ICMP, ...): nothing to analyze, nothing to report.</summary>
    OtherIp,
    /// <summary>A link frame that carries no IP (ARP, STP, LLDP, ...).</summary>
    NotIp,
    /// <summary>An IP fragment held until its datagram is whole.</summary>
    Fragment,
    /// <summary>A link type or an encapsulation we do not read: counted and named in <see cref="DecodedFrame.Skip"/>.</summary>
    Unsupported,
    /// <summary>Headers cut short or inconsistent: counted and named.</summary>
    Malformed,
}

/// <summary>One frame, decoded down to its (innermost) TCP header.</summary>
internal struct DecodedFrame
{
    public FrameKind Kind;
    /// <summary>For Unsupported and Malformed frames: what, in a few words ("link type 147", "GRE protocol 0x8881").</summary>
    public string? Skip;
    public IpAddr Source, Destination;
    public TcpHeader Tcp;
    /// <summary>TCP payload bytes, from the IP header's length as tshark computes tcp.len.</summary>
    public int PayloadLength;
    /// <summary>The IPv4 header checksum is wrong (offload, usually): marked, never a reason to drop.</summary>
    public bool IpChecksumBad;
    /// <summary>null: not verified (not asked, or bytes missing); true/false: the TCP checksum's verdict.</summary>
    public bool? TcpChecksumGood;
    /// <summary>The first fragment of a datagram that cannot be reassembled (bytes missing): its TCP header is shown, its length unknown, no analysis (as Wireshark).</summary>
    public bool Fragmented;
    /// <summary>The IP packet ends inside the TCP header ("short segment"): shown with the numbers it has, not analyzed (as Wireshark).</summary>
    public bool ShortSegment;
}

/// <summary>
/// Decodes a captured frame to the TCP segment it carries, as Wireshark would find it: the common link
/// types (Ethernet and 802.3 SNAP, Linux cooked v1/v2, BSD loopback, raw IP, PPP and Cisco HDLC, PPPoE,
/// 802.11 data frames with or without radiotap/PPI, FDDI, IPoIB, NFLOG, pflog), VLAN and QinQ, MPLS,
/// and the tunnels — IP-in-IP, 6in4, GRE (ERSPAN, transparent Ethernet, PPTP's enhanced GRE), VXLAN,
/// Geneve, GTP-U, Teredo — down to the innermost TCP header. IPv4 fragments are reassembled (bounded);
/// IPv6 extension headers are walked (atomic fragments, jumbograms). Checksums are never a reason to drop.
/// </summary>
internal sealed class FrameDecoder(bool verifyChecksums)
{
    private const int MaxDepth = 8; // encapsulations within encapsulations; a loop of them is malformed
    private const int MaxMissing = 1 << 20; // more than any IP packet, BIG TCP's 512 KiB included
    private readonly FragmentTable _fragments = new();

    public long FragmentsAbandoned => _fragments.Abandoned;

    public void Decode(CapturedPacket p, ref DecodedFrame f)
    {
        f = default;
        var d = p.Data.AsSpan();
        // Bytes the capture cut (its snap length): bounded, since a damaged file may claim any original length.
        int missing = Math.Clamp(p.OriginalLength - d.Length, 0, MaxMissing);
        switch (p.LinkType)
        {
            case (int)LinkType.Ethernet:
                Ethernet(d, missing, p.Frame, ref f, 0);
                return;
            case (int)LinkType.Raw or 12 or 14 or (int)LinkType.Ipv4 or (int)LinkType.Ipv6:
                Ip(d, missing, p.Frame, ref f, 0);
                return;
            case (int)LinkType.Null or (int)LinkType.Loop:
                {
                    if (d.Length < 4) { Malformed(ref f, "loopback header cut short"); return; }
                    uint fam = p.LinkType == (int)LinkType.Loop ? BinaryPrimitives.ReadUInt32BigEndian(d) : BinaryPrimitives.ReadUInt32LittleEndian(d);
                    if (fam > 0xFFFF) fam = BinaryPrimitives.ReverseEndianness(fam);
                    if (fam is 2 or 24 or 28 or 30) Ip(d[4..], missing, p.Frame, ref f, 0);
                    else f.Kind = FrameKind.NotIp;
                    return;
                }
            case (int)LinkType.LinuxSll:
                if (d.Length < 16) { Malformed(ref f, "Linux cooked header cut short"); return; }
                EtherType(BinaryPrimitives.ReadUInt16BigEndian(d[14..]), d[16..], missing, p.Frame, ref f, 0);
                return;
            case (int)LinkType.LinuxSll2:
                if (d.Length < 20) { Malformed(ref f, "Linux cooked v2 header cut short"); return; }
                EtherType(BinaryPrimitives.ReadUInt16BigEndian(d), d[20..], missing, p.Frame, ref f, 0);
                return;
            case 9 or 50: // PPP, PPP in HDLC framing
                Ppp(d, missing, p.Frame, ref f, 0);
                return;
            case 51: // PPPoE: the session header, then PPP
                PppoeSession(d, missing, p.Frame, ref f, 0);
                return;
            case 104: // Cisco HDLC: address, control, then an EtherType
                if (d.Length < 4) { Malformed(ref f, "Cisco HDLC header cut short"); return; }
                EtherType(BinaryPrimitives.ReadUInt16BigEndian(d[2..]), d[4..], missing, p.Frame, ref f, 0);
                return;
            case 10: // FDDI: frame control, two addresses, then LLC
                if (d.Length < 13) { Malformed(ref f, "FDDI header cut short"); return; }
                Llc(d[13..], missing, p.Frame, ref f, 0);
                return;
            case 105: // 802.11
                Wifi(d, missing, p.Frame, ref f);
                return;
            case 127: // radiotap, then 802.11
                {
                    if (d.Length < 4) { Malformed(ref f, "radiotap header cut short"); return; }
                    int len = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
                    if (len > d.Length) { Malformed(ref f, "radiotap header longer than the frame"); return; }
                    Wifi(d[len..], missing, p.Frame, ref f);
                    return;
                }
            case 192: // PPI, then what its data link type says
                {
                    if (d.Length < 8) { Malformed(ref f, "PPI header cut short"); return; }
                    int len = BinaryPrimitives.ReadUInt16LittleEndian(d[2..]);
                    uint dlt = BinaryPrimitives.ReadUInt32LittleEndian(d[4..]);
                    if (len > d.Length) { Malformed(ref f, "PPI header longer than the frame"); return; }
                    if (dlt == 105) Wifi(d[len..], missing, p.Frame, ref f);
                    else if (dlt == 1) Ethernet(d[len..], missing, p.Frame, ref f, 0);
                    else Unsupported(ref f, $"PPI carrying link type {dlt}");
                    return;
                }
            case 242: // IP over InfiniBand: two 20-byte addresses, an EtherType, 2 reserved bytes
                if (d.Length < 44) { Malformed(ref f, "IPoIB header cut short"); return; }
                EtherType(BinaryPrimitives.ReadUInt16BigEndian(d[40..]), d[44..], missing, p.Frame, ref f, 0);
                return;
            case 7 or 129: // ARCNET (BSD; Linux with a 2-byte offset): addresses, then a protocol id
                {
                    int at = p.LinkType == 129 ? 4 : 2;
                    if (d.Length <= at) { Malformed(ref f, "ARCNET header cut short"); return; }
                    byte id = d[at];
                    if (id == 0xF0) Ip(d[(at + 1)..], missing, p.Frame, ref f, 0);          // RFC 1051
                    else if (id == 0xD4 && d.Length >= at + 4) Ip(d[(at + 4)..], missing, p.Frame, ref f, 0); // RFC 1201: split flag and sequence
                    else if (id == 0xC4 && d.Length >= at + 4) Ip(d[(at + 4)..], missing, p.Frame, ref f, 0); // RFC 1201 IPv6
                    else f.Kind = FrameKind.NotIp;
                    return;
                }
            case 178: // Juniper Ethernet: "MGC", flags, extensions when flagged, then Ethernet
                {
                    if (d.Length < 4 || d[0] != 'M' || d[1] != 'G' || d[2] != 'C') { Malformed(ref f, "Juniper header without its magic"); return; }
                    int at = 4;
                    if ((d[3] & 0x80) != 0)
                    {
                        if (d.Length < 6) { Malformed(ref f, "Juniper header cut short"); return; }
                        at += 2 + BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
                    }
                    if (d.Length < at) { Malformed(ref f, "Juniper header cut short"); return; }
                    Ethernet(d[at..], missing, p.Frame, ref f, 0);
                    return;
                }
            case 239: // NFLOG: TLVs after a 4-byte header; type 9 is the packet
                Nflog(d, missing, p.Frame, ref f);
                return;
            case 117: // OpenBSD pflog: its header states its own length, then IP
                {
                    if (d.Length < 4) { Malformed(ref f, "pflog header cut short"); return; }
                    int len = (d[0] + 3) & ~3;
                    if (len > d.Length || len < 4) { Malformed(ref f, "pflog header length"); return; }
                    Ip(d[len..], missing, p.Frame, ref f, 0);
                    return;
                }
            case 109: // OpenBSD enc: 12 bytes, then IP
                if (d.Length < 12) { Malformed(ref f, "enc header cut short"); return; }
                Ip(d[12..], missing, p.Frame, ref f, 0);
                return;
            default:
                Unsupported(ref f, $"link type {p.LinkType}");
                return;
        }
    }

    private static void Malformed(ref DecodedFrame f, string what)
    {
        f.Kind = FrameKind.Malformed;
        f.Skip = what;
    }

    private static void Unsupported(ref DecodedFrame f, string what)
    {
        f.Kind = FrameKind.Unsupported;
        f.Skip = what;
    }

    private void Ethernet(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 14) { Malformed(ref f, "Ethernet header cut short"); return; }
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(d[12..]);
        if (type <= 1500) Llc(d[14..], missing, frame, ref f, depth); // 802.3: a length, then LLC
        else EtherType(type, d[14..], missing, frame, ref f, depth);
    }

    private void Llc(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        // SNAP (AA AA 03, an OUI, an EtherType) carries IP; other LLC saps do not.
        if (d.Length >= 8 && d[0] == 0xAA && d[1] == 0xAA && d[2] == 0x03) EtherType(BinaryPrimitives.ReadUInt16BigEndian(d[6..]), d[8..], missing, frame, ref f, depth);
        else if (d.Length >= 3 && d[0] == 0x06 && d[1] == 0x06) Ip(d[3..], missing, frame, ref f, depth); // LLC with the IP sap
        else f.Kind = FrameKind.NotIp;
    }

    private void EtherType(ushort type, ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        while (true)
        {
            if (depth > MaxDepth) { Malformed(ref f, "too many nested encapsulations"); return; }
            switch (type)
            {
                case 0x0800 or 0x86DD:
                    Ip(d, missing, frame, ref f, depth);
                    return;
                case 0x8100 or 0x88A8 or 0x9100 or 0x9200: // VLAN, QinQ
                    if (d.Length < 4) { Malformed(ref f, "VLAN tag cut short"); return; }
                    type = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
                    d = d[4..];
                    depth++;
                    continue;
                case 0x8926: // VN-tag (Cisco's 802.1Qbh): 4 bytes of tag, then the next EtherType
                    if (d.Length < 6) { Malformed(ref f, "VN-tag cut short"); return; }
                    type = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
                    d = d[6..];
                    depth++;
                    continue;
                case 0x8903: // Cisco FabricPath: forwarding tag and TTL, then the host's own Ethernet frame with its FCS
                    {
                        if (d.Length < 2) { Malformed(ref f, "FabricPath header cut short"); return; }
                        // The inner frame's 4-byte FCS ends the packet (as Wireshark reads it): not IP's to claim.
                        var inner = d[2..];
                        int fcsMissing = Math.Min(missing, 4);
                        int fcsHere = 4 - fcsMissing;
                        if (inner.Length < fcsHere) { Malformed(ref f, "FabricPath frame cut short"); return; }
                        Ethernet(inner[..^fcsHere], missing - fcsMissing, frame, ref f, depth + 1);
                        return;
                    }
                case 0x8847 or 0x8848: // MPLS
                    Mpls(d, missing, frame, ref f, depth + 1);
                    return;
                case 0x8864: // PPPoE session
                    PppoeSession(d, missing, frame, ref f, depth + 1);
                    return;
                case 0x6558: // transparent Ethernet bridging (in GRE)
                    Ethernet(d, missing, frame, ref f, depth + 1);
                    return;
                case 0x88BE: // ERSPAN type II: 8 bytes, then Ethernet
                    if (d.Length < 8) { Malformed(ref f, "ERSPAN header cut short"); return; }
                    Ethernet(d[8..], missing, frame, ref f, depth + 1);
                    return;
                case 0x22EB: // ERSPAN type III: 12 bytes, 8 more with the O bit, then Ethernet
                    {
                        if (d.Length < 12) { Malformed(ref f, "ERSPAN III header cut short"); return; }
                        int len = (d[11] & 0x01) != 0 ? 20 : 12;
                        if (d.Length < len) { Malformed(ref f, "ERSPAN III header cut short"); return; }
                        Ethernet(d[len..], missing, frame, ref f, depth + 1);
                        return;
                    }
                case >= 0x8200 and <= 0x8370 when (type & 0xF) == 0: // Aruba's GRE: an 802.11 frame
                    Wifi(d, missing, frame, ref f);
                    return;
                case 0x88E7: // 802.1ah provider backbone bridging: the I-tag, then the customer's Ethernet frame
                    if (d.Length < 4) { Malformed(ref f, "802.1ah I-tag cut short"); return; }
                    Ethernet(d[4..], missing, frame, ref f, depth + 1);
                    return;
                case 0x880B: // PPP (PPTP's GRE)
                    Ppp(d, missing, frame, ref f, depth + 1);
                    return;
                case 0x883E: // WCCP redirection in GRE: version 2 puts a 4-byte header before the IP packet
                    if (d.Length >= 1 && d[0] >> 4 == 4) Ip(d, missing, frame, ref f, depth + 1);
                    else if (d.Length >= 4) Ip(d[4..], missing, frame, ref f, depth + 1);
                    else Malformed(ref f, "WCCP header cut short");
                    return;
                default:
                    f.Kind = FrameKind.NotIp; // ARP, LLDP, EAPOL, PPPoE discovery, LACP, PTP, ...: counted as not IP
                    return;
            }
        }
    }

    private void Mpls(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        // Labels until the bottom of the stack; then IP by its version nibble, or a pseudowire's
        // control word (first nibble 0) and Ethernet, as Wireshark guesses.
        for (int i = 0; i < 16; i++)
        {
            if (d.Length < 4) { Malformed(ref f, "MPLS label cut short"); return; }
            bool bottom = (d[2] & 0x01) != 0;
            d = d[4..];
            if (!bottom) continue;
            if (d.Length == 0) { Malformed(ref f, "MPLS with nothing under its labels"); return; }
            int v = d[0] >> 4;
            if (v is 4 or 6) Ip(d, missing, frame, ref f, depth);
            else if (v == 0 && d.Length >= 4) Ethernet(d[4..], missing, frame, ref f, depth);
            else Unsupported(ref f, "MPLS payload");
            return;
        }
        Malformed(ref f, "MPLS label stack without a bottom");
    }

    /// <summary>
    /// A PPPoE session header, then PPP: its length field bounds the payload, so an Ethernet frame's
    /// padding is not taken for the packet's bytes (as Wireshark reads it).
    /// </summary>
    private void PppoeSession(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 6) { Malformed(ref f, "PPPoE header cut short"); return; }
        int length = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
        var payload = d[6..];
        if (length <= payload.Length) Ppp(payload[..length], 0, frame, ref f, depth);
        else Ppp(payload, Math.Min(missing, length - payload.Length), frame, ref f, depth);
    }

    private void Ppp(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length >= 2 && d[0] == 0xFF && d[1] == 0x03) d = d[2..]; // address and control, when present
        if (d.Length < 1) { Malformed(ref f, "PPP header cut short"); return; }
        int proto;
        if ((d[0] & 0x01) != 0) { proto = d[0]; d = d[1..]; } // a compressed one-byte protocol
        else
        {
            if (d.Length < 2) { Malformed(ref f, "PPP header cut short"); return; }
            proto = BinaryPrimitives.ReadUInt16BigEndian(d);
            d = d[2..];
        }
        if (proto is 0x21 or 0x57) Ip(d, missing, frame, ref f, depth);
        else if (proto == 0x0281) Mpls(d, missing, frame, ref f, depth + 1);
        else f.Kind = FrameKind.NotIp; // LCP, IPCP, CHAP, compressed data, ...
    }

    private void Wifi(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f)
    {
        if (d.Length < 24) { Malformed(ref f, "802.11 header cut short"); return; }
        int fc = d[0];
        int type = (fc >> 2) & 0x3, subtype = fc >> 4;
        if (type != 2 || (subtype & 0x4) != 0) { f.Kind = FrameKind.NotIp; return; } // not data, or no payload
        if ((d[1] & 0x40) != 0) { Unsupported(ref f, "802.11 protected (encrypted) data"); return; }
        int hdr = 24;
        if ((d[1] & 0x03) == 0x03) hdr += 6; // four addresses (WDS)
        bool qos = (subtype & 0x8) != 0;
        int qosAt = hdr;
        if (qos) hdr += 2;  // QoS control
        if (qos && (fc & 0x80) != 0 && (d[1] & 0x80) != 0) hdr += 4; // HT control (order bit)
        if (d.Length < hdr) { Malformed(ref f, "802.11 header cut short"); return; }
        if (qos && (d[qosAt] & 0x80) != 0)
        {
            // An A-MSDU: subframes of destination, source, length and an LLC-framed packet each. The
            // first is read (a frame shows one TCP segment here).
            var sub = d[hdr..];
            if (sub.Length < 14) { Malformed(ref f, "A-MSDU subframe header cut short"); return; }
            int length = BinaryPrimitives.ReadUInt16BigEndian(sub[12..]);
            Llc(sub.Slice(14, Math.Min(length, sub.Length - 14)), missing, frame, ref f, 0);
            return;
        }
        Llc(d[hdr..], missing, frame, ref f, 0);
    }

    private void Nflog(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f)
    {
        if (d.Length < 4) { Malformed(ref f, "NFLOG header cut short"); return; }
        int i = 4;
        while (i + 4 <= d.Length)
        {
            int len = BinaryPrimitives.ReadUInt16LittleEndian(d[i..]);
            int type = BinaryPrimitives.ReadUInt16LittleEndian(d[(i + 2)..]);
            if (len < 4 || i + len > d.Length) break;
            if (type == 9)
            {
                Ip(d.Slice(i + 4, len - 4), missing, frame, ref f, 0);
                return;
            }
            i += (len + 3) & ~3;
        }
        f.Kind = FrameKind.NotIp;
    }

    private void Ip(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (depth > MaxDepth) { Malformed(ref f, "too many nested encapsulations"); return; }
        if (d.Length < 1) { Malformed(ref f, "IP header cut short"); return; }
        int version = d[0] >> 4;
        if (version == 4) Ipv4(d, missing, frame, ref f, depth);
        else if (version == 6) Ipv6(d, missing, frame, ref f, depth);
        else Malformed(ref f, $"IP version {version}");
    }

    private void Ipv4(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 20) { Malformed(ref f, "IPv4 header cut short"); return; }
        int ihl = (d[0] & 0x0F) * 4;
        if (ihl < 20 || ihl > d.Length) { Malformed(ref f, "IPv4 header length"); return; }
        int total = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
        int onWire = d.Length + missing;
        // A total length of 0 is a TSO/BIG TCP packet the sender's kernel had not cut yet: the frame says how long it is.
        if (total == 0) total = onWire;
        if (total < ihl) { Malformed(ref f, "IPv4 total length shorter than its header"); return; }
        bool longerThanFrame = total > onWire;
        if (longerThanFrame) total = onWire; // longer than the frame: what the frame holds is what there is
        byte proto = d[9];
        var src = IpAddr.FromSpan(d.Slice(12, 4));
        var dst = IpAddr.FromSpan(d.Slice(16, 4));
        bool ipBad = InternetChecksum.Compute(d[..ihl]) != 0;
        ushort frag = BinaryPrimitives.ReadUInt16BigEndian(d[6..]);
        int fragOffset = (frag & 0x1FFF) * 8;
        bool more = (frag & 0x2000) != 0;
        int payloadOnWire = total - ihl;
        var payload = d[ihl..Math.Min(d.Length, total)];
        if (fragOffset != 0 || more)
        {
            if (proto is not (6 or 4 or 41 or 47 or 17)) { f.Kind = FrameKind.OtherIp; return; }
            ushort id = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
            if (payload.Length < payloadOnWire || longerThanFrame)
            {
                // Not all of it captured: no reassembly; a first fragment still shows its TCP header, as in Wireshark.
                if (fragOffset == 0 && proto == 6)
                {
                    Tcp(src, dst, payload, Math.Max(0, payloadOnWire - payload.Length), ref f);
                    f.Fragmented = f.Kind == FrameKind.Tcp;
                }
                else Unsupported(ref f, "an IPv4 fragment cut short");
                return;
            }
            var whole = _fragments.Add(new FragmentKey(src, dst, id, proto), fragOffset, more, payload, frame);
            if (whole is null) { f.Kind = FrameKind.Fragment; return; }
            Transport(proto, src, dst, whole, 0, frame, ref f, depth);
            f.IpChecksumBad = ipBad;
            return;
        }
        Transport(proto, src, dst, payload, payloadOnWire - payload.Length, frame, ref f, depth);
        f.IpChecksumBad |= ipBad;
    }

    private void Ipv6(ReadOnlySpan<byte> d, int missing, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 40) { Malformed(ref f, "IPv6 header cut short"); return; }
        int payloadLen = BinaryPrimitives.ReadUInt16BigEndian(d[4..]);
        byte next = d[6];
        var src = IpAddr.FromSpan(d.Slice(8, 16));
        var dst = IpAddr.FromSpan(d.Slice(24, 16));
        int onWire = d.Length + missing - 40;
        bool jumbo = payloadLen == 0; // a jumbogram (RFC 2675) or BIG TCP: the frame, or the jumbo option, says how long
        if (jumbo) payloadLen = onWire;
        if (payloadLen > onWire) payloadLen = onWire;
        var rest = d[40..];
        int consumed = 0;
        for (int i = 0; i < 16; i++)
        {
            switch (next)
            {
                case 0 or 43 or 60 or 135 or 139 or 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
                    {
                        if (rest.Length < 8) { Malformed(ref f, "IPv6 extension header cut short"); return; }
                        int len = (rest[1] + 1) * 8;
                        if (rest.Length < len) { Malformed(ref f, "IPv6 extension header cut short"); return; }
                        if (next == 0 && jumbo) JumboLength(rest[2..len], ref payloadLen);
                        next = rest[0];
                        rest = rest[len..];
                        consumed += len;
                        continue;
                    }
                case 51: // AH: length in 4-byte words, plus 2
                    {
                        if (rest.Length < 8) { Malformed(ref f, "AH header cut short"); return; }
                        int len = (rest[1] + 2) * 4;
                        if (rest.Length < len) { Malformed(ref f, "AH header cut short"); return; }
                        next = rest[0];
                        rest = rest[len..];
                        consumed += len;
                        continue;
                    }
                case 44: // fragment
                    {
                        if (rest.Length < 8) { Malformed(ref f, "IPv6 fragment header cut short"); return; }
                        ushort fo = BinaryPrimitives.ReadUInt16BigEndian(rest[2..]);
                        uint id = BinaryPrimitives.ReadUInt32BigEndian(rest[4..]);
                        int offset = fo & 0xFFF8;
                        bool more = (fo & 1) != 0;
                        byte inner = rest[0];
                        rest = rest[8..];
                        consumed += 8;
                        if (offset == 0 && !more)
                        {
                            next = inner; // an atomic fragment (RFC 6946): a whole packet with a fragment header
                            continue;
                        }
                        if (inner is not (6 or 4 or 41 or 47 or 17)) { f.Kind = FrameKind.OtherIp; return; }
                        int fragLen = payloadLen - consumed;
                        if (fragLen < 0 || rest.Length < fragLen) { Unsupported(ref f, "an IPv6 fragment cut by the snap length"); return; }
                        var whole = _fragments.Add(new FragmentKey(src, dst, id, inner), offset, more, rest[..fragLen], frame);
                        if (whole is null) { f.Kind = FrameKind.Fragment; return; }
                        Transport(inner, src, dst, whole, 0, frame, ref f, depth);
                        return;
                    }
                default:
                    {
                        int len = payloadLen - consumed;
                        if (len < 0) { Malformed(ref f, "IPv6 payload length shorter than its extension headers"); return; }
                        var payload = rest[..Math.Min(rest.Length, len)];
                        Transport(next, src, dst, payload, len - payload.Length, frame, ref f, depth);
                        return;
                    }
            }
        }
        Malformed(ref f, "too many IPv6 extension headers");
    }

    private static void JumboLength(ReadOnlySpan<byte> options, ref int payloadLen)
    {
        for (int i = 0; i + 2 <= options.Length;)
        {
            if (options[i] == 0) { i++; continue; }
            int len = options[i + 1];
            if (options[i] == 0xC2 && len == 4 && i + 6 <= options.Length)
            {
                long jumbo = BinaryPrimitives.ReadUInt32BigEndian(options[(i + 2)..]);
                if (jumbo > 0 && jumbo < payloadLen) payloadLen = (int)jumbo;
                return;
            }
            i += 2 + len;
        }
    }

    /// <summary>The IP payload: TCP, or a tunnel to go into.</summary>
    /// <param name="cut">Payload bytes on the wire but not in the capture.</param>
    private void Transport(byte proto, IpAddr src, IpAddr dst, ReadOnlySpan<byte> payload, int cut, int frame, ref DecodedFrame f, int depth)
    {
        switch (proto)
        {
            case 6:
                Tcp(src, dst, payload, cut, ref f);
                return;
            case 4 or 41: // IP in IP, IPv6 in IPv4 (6in4)
                Ip(payload, cut, frame, ref f, depth + 1);
                return;
            case 47:
                Gre(payload, cut, frame, ref f, depth + 1);
                return;
            case 17:
                Udp(payload, cut, frame, ref f, depth + 1);
                return;
            case 1 when payload.Length >= 8 && payload[0] is 3 or 4 or 5 or 11 or 12:
            case 58 when payload.Length >= 8 && payload[0] is >= 1 and <= 4:
                InError(payload[8..], ref f);
                return;
            default:
                f.Kind = FrameKind.OtherIp;
                return;
        }
    }

    /// <summary>
    /// The packet an ICMP error quotes: Wireshark shows its TCP header in the conversation it belongs to,
    /// with raw numbers, no length and no analysis (it is not a segment of the stream).
    /// </summary>
    private static void InError(ReadOnlySpan<byte> quoted, ref DecodedFrame f)
    {
        f.Kind = FrameKind.OtherIp;
        if (quoted.Length < 1) return;
        IpAddr src, dst;
        ReadOnlySpan<byte> l4;
        if (quoted[0] >> 4 == 4 && quoted.Length >= 20)
        {
            int ihl = (quoted[0] & 0x0F) * 4;
            if (quoted[9] != 6 || ihl < 20 || quoted.Length < ihl + 8) return;
            src = IpAddr.FromSpan(quoted.Slice(12, 4));
            dst = IpAddr.FromSpan(quoted.Slice(16, 4));
            l4 = quoted[ihl..];
        }
        else if (quoted[0] >> 4 == 6 && quoted.Length >= 48 && quoted[6] == 6)
        {
            src = IpAddr.FromSpan(quoted.Slice(8, 16));
            dst = IpAddr.FromSpan(quoted.Slice(24, 16));
            l4 = quoted[40..];
        }
        else return;
        if (l4.Length < 16) return; // ports, numbers, flags and window: what the conversation needs
        f.Kind = FrameKind.Tcp;
        f.Skip = null;
        f.Source = src;
        f.Destination = dst;
        f.Tcp = FixedHeader(l4);
        f.PayloadLength = 0;
        f.Fragmented = true;
    }

    private void Gre(ReadOnlySpan<byte> d, int cut, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 4) { Malformed(ref f, "GRE header cut short"); return; }
        int flags = d[0];
        int version = d[1] & 0x07;
        ushort type = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
        int len = 4;
        if (version == 0)
        {
            if ((flags & 0x80) != 0 || (flags & 0x40) != 0) len += 4; // checksum (and the reserved word), or routing
            if ((flags & 0x20) != 0) len += 4; // key
            if ((flags & 0x10) != 0) len += 4; // sequence number
        }
        else if (version == 1)
        {
            len += 4; // PPTP: the key (payload length and call id) is always there
            if ((flags & 0x10) != 0) len += 4;
            if ((d[1] & 0x80) != 0) len += 4; // acknowledgment number
        }
        else
        {
            Unsupported(ref f, $"GRE version {version}");
            return;
        }
        if (d.Length < len) { Malformed(ref f, "GRE header cut short"); return; }
        if (version == 1 && d.Length == len) { f.Kind = FrameKind.OtherIp; return; } // an ack alone
        switch (type)
        {
            case 0x88BE when (flags & 0x10) == 0: // ERSPAN type I: no sequence number, no header of its own
                Ethernet(d[len..], cut, frame, ref f, depth);
                return;
            case 0x0800 or 0x86DD or 0x8100 or 0x88A8 or 0x8847 or 0x8848 or 0x6558 or 0x88BE or 0x22EB or 0x880B or 0x883E:
            case >= 0x8200 and <= 0x8370 when (type & 0xF) == 0: // Aruba's 802.11 in GRE
                EtherType(type, d[len..], cut, frame, ref f, depth);
                return;
            default:
                Unsupported(ref f, $"GRE protocol 0x{type:X4}");
                return;
        }
    }

    private void Udp(ReadOnlySpan<byte> d, int cut, int frame, ref DecodedFrame f, int depth)
    {
        if (d.Length < 8) { f.Kind = FrameKind.OtherIp; return; }
        ushort sport = BinaryPrimitives.ReadUInt16BigEndian(d);
        ushort dport = BinaryPrimitives.ReadUInt16BigEndian(d[2..]);
        var p = d[8..];
        bool Port(ushort port) => sport == port || dport == port;
        if (Port(4789) && p.Length >= 8 && (p[0] & 0x08) != 0) Ethernet(p[8..], cut, frame, ref f, depth); // VXLAN
        else if (Port(6081) && p.Length >= 8 && p[0] >> 6 == 0) // Geneve
        {
            int len = 8 + (p[0] & 0x3F) * 4;
            if (p.Length < len) { Malformed(ref f, "Geneve header cut short"); return; }
            EtherType(BinaryPrimitives.ReadUInt16BigEndian(p[2..]), p[len..], cut, frame, ref f, depth);
        }
        else if (Port(2152) && p.Length >= 8 && (p[0] >> 5) == 1 && p[1] == 0xFF) Gtp(p, cut, frame, ref f, depth); // GTP-U, a T-PDU
        else if (Port(3544) && p.Length >= 40 && p[0] >> 4 == 6) Ip(p, cut, frame, ref f, depth); // Teredo, no indicators
        else if (Port(4754)) Gre(p, cut, frame, ref f, depth); // GRE in UDP (RFC 8086)
        else if (Port(5072) && p.Length >= 8) // AYIYA: identity and signature sized by the header, then the packet
        {
            int len = 8 + (1 << (p[0] >> 4)) + (p[1] >> 4) * 4;
            if (p.Length < len) { Malformed(ref f, "AYIYA header cut short"); return; }
            if (p[3] is 41 or 4) Ip(p[len..], cut, frame, ref f, depth);
            else f.Kind = FrameKind.OtherIp;
        }
        else f.Kind = FrameKind.OtherIp;
    }

    private void Gtp(ReadOnlySpan<byte> p, int cut, int frame, ref DecodedFrame f, int depth)
    {
        int len = 8;
        if ((p[0] & 0x07) != 0)
        {
            len = 12;
            if (p.Length < len) { Malformed(ref f, "GTP header cut short"); return; }
            byte ext = (p[0] & 0x04) != 0 ? p[11] : (byte)0;
            while (ext != 0)
            {
                if (p.Length < len + 1) { Malformed(ref f, "GTP extension cut short"); return; }
                int elen = p[len] * 4;
                if (elen == 0 || p.Length < len + elen) { Malformed(ref f, "GTP extension cut short"); return; }
                ext = p[len + elen - 1];
                len += elen;
            }
        }
        if (p.Length <= len) { f.Kind = FrameKind.OtherIp; return; }
        Ip(p[len..], cut, frame, ref f, depth);
    }

    private void Tcp(IpAddr src, IpAddr dst, ReadOnlySpan<byte> segment, int cut, ref DecodedFrame f)
    {
        if (!TcpHeader.TryParse(segment, out var h, out var error))
        {
            // Wireshark reads what the capture holds: ports, numbers, flags and window need 16 bytes; a
            // header the snap length cut, or options that do not parse, leave the fixed fields standing.
            if (segment.Length < 16)
            {
                Malformed(ref f, "TCP header cut short");
                return;
            }
            if (error == ParseError.TcpDataOffsetTooSmall)
            {
                Malformed(ref f, "TCP data offset below 5");
                return;
            }
            h = FixedHeader(segment);
        }
        f.Kind = FrameKind.Tcp;
        f.Skip = null;
        f.Source = src;
        f.Destination = dst;
        f.Tcp = h;
        f.PayloadLength = Math.Max(0, segment.Length + cut - h.HeaderLength);
        if (segment.Length + cut < Math.Max(20, h.HeaderLength))
        {
            // tshark stops at a short segment before its analysis (and before the conversation table counts it).
            f.ShortSegment = true;
            f.Fragmented = true;
        }
        if (verifyChecksums) f.TcpChecksumGood = cut == 0 && segment.Length >= h.HeaderLength ? InternetChecksum.VerifyTcp(src, dst, segment) : null;
    }

    private static TcpHeader FixedHeader(ReadOnlySpan<byte> s) => new()
    {
        SourcePort = BinaryPrimitives.ReadUInt16BigEndian(s),
        DestinationPort = BinaryPrimitives.ReadUInt16BigEndian(s[2..]),
        Seq = new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(s[4..])),
        Ack = new SeqNum(BinaryPrimitives.ReadUInt32BigEndian(s[8..])),
        Flags = (TcpFlags)s[13],
        Window = BinaryPrimitives.ReadUInt16BigEndian(s[14..]),
        Checksum = s.Length >= 18 ? BinaryPrimitives.ReadUInt16BigEndian(s[16..]) : (ushort)0,
        UrgentPointer = s.Length >= 20 ? BinaryPrimitives.ReadUInt16BigEndian(s[18..]) : (ushort)0,
        HeaderLength = (s[12] >> 4) * 4,
    };
}
