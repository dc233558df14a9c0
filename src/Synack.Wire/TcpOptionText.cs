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

    /// <summary>The options as tcpdump prints them: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7".</summary>
    public static string DescribeOptions(ReadOnlySpan<byte> o)
    {
        var sb = new StringBuilder();
        var reader = new TcpOptionReader(o);
        while (reader.TryNext(out var kind, out int len, out var b))
        {
            if (sb.Length > 0) sb.Append(',');
            if (kind == TcpOptionKind.EndOfList)
            {
                sb.Append("eol");
                return sb.ToString();
            }
            bool fits = TcpOptionCodec.HasValidLength(kind, len);
            switch (kind)
            {
                case TcpOptionKind.Nop: sb.Append("nop"); break;
                case TcpOptionKind.Mss when fits: sb.Append("mss ").Append(TcpOptionCodec.ReadMss(b)); break;
                case TcpOptionKind.WindowScale when fits: sb.Append("wscale ").Append(b[0]); break;
                case TcpOptionKind.SackPermitted when fits: sb.Append("sackOK"); break;
                case TcpOptionKind.Timestamps when fits:
                    var (val, ecr) = TcpOptionCodec.ReadTimestamps(b);
                    sb.Append("TS val ").Append(val).Append(" ecr ").Append(ecr);
                    break;
                case TcpOptionKind.Sack when (len - TcpOptionCodec.SackHeaderLength) % TcpOptionCodec.SackBlockLength == 0:
                    int blocks = b.Length / TcpOptionCodec.SackBlockLength;
                    sb.Append("sack ").Append(blocks);
                    for (int k = 0; k < blocks; k++)
                    {
                        var block = TcpOptionCodec.ReadSackBlock(b, k);
                        sb.Append(" {").Append(block.Left.Value).Append(':').Append(block.Right.Value).Append('}');
                    }
                    break;
                default: sb.Append("unknown-").Append((byte)kind).Append(" len ").Append(len); break;
            }
        }
        if (reader.Error != ParseError.None)
        {
            if (sb.Length > 0) sb.Append(',');
            sb.Append("[bad opt]");
        }
        return sb.ToString();
    }
}
