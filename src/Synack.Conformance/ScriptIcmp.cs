using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// An injected ICMP error line: <c>&lt; icmp unreachable port_unreachable [0:0(0)]</c>, or with
/// <c>mtu 1300</c>. The bracket is the quoted TCP segment of ours, numbered relative to our ISN.
/// </summary>
internal sealed partial class ScriptIcmp
{
    public required byte Type { get; init; }
    public required byte Code { get; init; }
    public uint Mtu { get; init; }
    public required uint QuotedSeq { get; init; }

    [GeneratedRegex(@"^<\s*icmp\s+(?<type>[a-z_]+)(\s+(?<code>[a-z_0-9]+))?(\s+mtu\s+(?<mtu>[0-9]+))?\s*\[(?<seq>[0-9]+):(?<end>[0-9]+)\((?<len>[0-9]+)\)\]\s*$")]
    private static partial Regex Shape();

    public static bool IsIcmp(string text) => Regex.IsMatch(text, @"^[<>]\s*icmp\b");

    public static ScriptIcmp Parse(string text, bool v6)
    {
        if (text.StartsWith('>')) throw new UnsupportedScriptException("ICMP sent by the stack");
        var m = Shape().Match(text.Trim());
        if (!m.Success) throw new FormatException("an ICMP line is: < icmp TYPE [CODE] [mtu N] [seq:end(len)]");
        string type = m.Groups["type"].Value, code = m.Groups["code"].Success ? m.Groups["code"].Value : "";
        var (t, c) = v6 ? V6(type, code) : V4(type, code);
        return new ScriptIcmp
        {
            Type = t,
            Code = c,
            Mtu = m.Groups["mtu"].Success ? uint.Parse(m.Groups["mtu"].Value, System.Globalization.CultureInfo.InvariantCulture) : 0,
            QuotedSeq = uint.Parse(m.Groups["seq"].Value, System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static (byte, byte) V4(string type, string code) => type switch
    {
        "unreachable" => (3, code switch
        {
            "net_unreachable" => 0,
            "host_unreachable" => 1,
            "protocol_unreachable" => 2,
            "port_unreachable" => 3,
            "frag_needed" => 4,
            "source_route_failed" => 5,
            "net_unknown" => 6,
            "host_unknown" => 7,
            "source_host_isolated" => 8,
            "net_prohibited" => 9,
            "host_prohibited" => 10,
            "net_unreachable_for_tos" => 11,
            "host_unreachable_for_tos" => 12,
            "packet_filtered" => 13,
            "precedence_violation" => 14,
            "precedence_cutoff" => 15,
            _ => throw new FormatException($"unknown ICMP unreachable code {code}"),
        }),
        "time_exceeded" => (11, code switch { "ttl_exceeded_in_transit" => 0, "frag_reass_exceeded" => 1, _ => throw new FormatException($"unknown time_exceeded code {code}") }),
        "parameter_problem" => (12, code.StartsWith("code_", StringComparison.Ordinal) ? byte.Parse(code.AsSpan(5), provider: System.Globalization.CultureInfo.InvariantCulture) : (byte)0),
        "redirect" => (5, 0),
        "source_quench" => (4, 0),
        _ => throw new FormatException($"unknown ICMP type {type}"),
    };

    private static (byte, byte) V6(string type, string code) => type switch
    {
        "unreachable" => (1, code switch
        {
            "no_route" => 0,
            "admin_prohibited" => 1,
            "not_neighbour" or "beyond_scope" => 2,
            "address_unreachable" => 3,
            "port_unreachable" => 4,
            _ => throw new FormatException($"unknown ICMPv6 unreachable code {code}"),
        }),
        "packet_too_big" => (2, 0),
        "time_exceeded" => (3, code switch { "exceeded_hop_limit" => 0, "exceeded_frag_time" => 1, _ => throw new FormatException($"unknown time_exceeded code {code}") }),
        "parameter_problem" => (4, code switch { "header_field" => 0, "unknown_next_header" => 1, "unknown_option" => 2, _ => throw new FormatException($"unknown parameter_problem code {code}") }),
        _ => throw new FormatException($"unknown ICMPv6 type {type}"),
    };

    /// <summary>The whole packet, from <paramref name="remote"/> to <paramref name="local"/>, quoting a segment from local:localPort to remote:remotePort.</summary>
    public byte[] Build(IpAddr remote, IpAddr local, ushort localPort, ushort remotePort, uint liveSeq)
    {
        bool v6 = local.IsV6;
        int quotedIp = v6 ? IpHeader.Ipv6Length : IpHeader.Ipv4MinLength;
        int icmpLen = 8 + quotedIp + TcpHeader.MinLength;
        int outerIp = v6 ? IpHeader.Ipv6Length : IpHeader.Ipv4MinLength;
        var packet = new byte[outerIp + icmpLen];
        IpHeader.Write(packet, remote, local, v6 ? (byte)58 : (byte)1, icmpLen);
        var icmp = packet.AsSpan(outerIp);
        icmp[0] = Type;
        icmp[1] = Code;
        if (v6) BinaryPrimitives.WriteUInt32BigEndian(icmp[4..], Mtu);
        else BinaryPrimitives.WriteUInt16BigEndian(icmp[6..], (ushort)Mtu);
        var quoted = icmp[8..];
        IpHeader.Write(quoted, local, remote, InternetChecksum.ProtocolTcp, TcpHeader.MinLength);
        var tcp = quoted[quotedIp..];
        BinaryPrimitives.WriteUInt16BigEndian(tcp, localPort);
        BinaryPrimitives.WriteUInt16BigEndian(tcp[2..], remotePort);
        BinaryPrimitives.WriteUInt32BigEndian(tcp[4..], liveSeq);
        tcp[12] = 5 << 4;
        tcp[13] = (byte)TcpFlags.Syn;
        uint sum = v6 ? InternetChecksum.PseudoHeader(remote, local, 58, icmpLen) : 0;
        BinaryPrimitives.WriteUInt16BigEndian(icmp[2..], InternetChecksum.Fold(InternetChecksum.Add(sum, icmp)));
        return packet;
    }
}
