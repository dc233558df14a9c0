using System.Buffers.Binary;
using System.Text;

namespace Synack.Wire;

/// <summary>Options in wire order, spelled as tcpdump does: "mss 1460,nop,wscale 7,sackOK,TS val 1 ecr 0".</summary>
public static class TcpOptionText
{
    /// <summary>Describes the options of the TCP header in an IP packet; empty if there are none or it does not parse.</summary>
    public static string Describe(ReadOnlySpan<byte> ipPacket)
    {
        if (!IpHeader.TryParse(ipPacket, out var ip, out _)) return "";
        var tcp = ipPacket.Slice(ip.HeaderLength, ip.PayloadLength);
        if (tcp.Length < TcpHeader.MinLength) return "";
        int hl = (tcp[12] >> 4) * 4;
        if (hl < TcpHeader.MinLength || hl > tcp.Length) return "";
        return DescribeOptions(tcp[TcpHeader.MinLength..hl]);
    }

    public static string DescribeOptions(ReadOnlySpan<byte> o)
    {
        var sb = new StringBuilder();
        int i = 0;
        while (i < o.Length)
        {
            if (sb.Length > 0) sb.Append(',');
            byte kind = o[i];
            if (kind == 0)
            {
                sb.Append("eol");
                break;
            }
            if (kind == 1)
            {
                sb.Append("nop");
                i++;
                continue;
            }
            if (i + 1 >= o.Length || o[i + 1] < 2 || i + o[i + 1] > o.Length)
            {
                sb.Append("[bad opt]");
                break;
            }
            int len = o[i + 1];
            var b = o.Slice(i + 2, len - 2);
            switch (kind)
            {
                case 2 when len == 4: sb.Append("mss ").Append(BinaryPrimitives.ReadUInt16BigEndian(b)); break;
                case 3 when len == 3: sb.Append("wscale ").Append(b[0]); break;
                case 4 when len == 2: sb.Append("sackOK"); break;
                case 8 when len == 10:
                    sb.Append("TS val ").Append(BinaryPrimitives.ReadUInt32BigEndian(b)).Append(" ecr ").Append(BinaryPrimitives.ReadUInt32BigEndian(b[4..]));
                    break;
                case 5 when (len - 2) % 8 == 0:
                    sb.Append("sack ").Append((len - 2) / 8);
                    for (int k = 0; k + 8 <= b.Length; k += 8)
                    {
                        sb.Append(" {").Append(BinaryPrimitives.ReadUInt32BigEndian(b[k..])).Append(':').Append(BinaryPrimitives.ReadUInt32BigEndian(b[(k + 4)..])).Append('}');
                    }
                    break;
                default: sb.Append("unknown-").Append(kind).Append(" len ").Append(len); break;
            }
            i += len;
        }
        return sb.ToString();
    }
}
