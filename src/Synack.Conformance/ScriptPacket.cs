using System.Globalization;
using System.Text;
using Synack.Wire;

namespace Synack.Conformance;

/// <summary>
/// A packet line of a script: <c>&lt; S. 0:0(0) ack 1 win 32767 &lt;mss 1460,sackOK,eol,eol&gt;</c>.
/// Sequence numbers are the script's (relative to the ISNs), as written.
/// </summary>
internal sealed class ScriptPacket
{
    public required bool Inbound { get; init; }
    public required TcpFlags Flags { get; init; }
    public required uint Seq { get; init; }
    public required int Length { get; init; }
    public uint? Ack { get; init; }
    public ushort? Window { get; init; }
    /// <summary>Null: the script gives no options (the packet must carry none). <see cref="AnyOptions"/>: <c>&lt;...&gt;</c>.</summary>
    public IReadOnlyList<ScriptOption>? Options { get; init; }
    public bool AnyOptions { get; init; }
    /// <summary><c>!</c> after the numbers: absolute sequence numbers, not relative to the ISNs.</summary>
    public bool Absolute { get; init; }
    /// <summary><c>...(n)</c>: any sequence number (outbound only).</summary>
    public bool AnySequence { get; init; }
    /// <summary>The IP ECN field the script names (<c>[ect0]</c>, <c>[ce]</c>, <c>[noecn]</c>), or null when it does not say.</summary>
    public EcnCodepoint? Ecn { get; init; }
    /// <summary><c>[ect01]</c>: either ECT codepoint.</summary>
    public bool AnyEct { get; init; }
    /// <summary><c>(tos 0x20)</c> / <c>(class 0x20)</c>: the whole TOS byte or traffic class (DSCP and ECN).</summary>
    public byte? TrafficClass { get; init; }
    /// <summary><c>(ttl 4)</c> / <c>(hlim 6)</c>.</summary>
    public byte? HopLimit { get; init; }
    public required string Text { get; init; }

    public static string FlagText(TcpFlags f)
    {
        var sb = new StringBuilder();
        if (f.Has(TcpFlags.Syn)) sb.Append('S');
        if (f.Has(TcpFlags.Fin)) sb.Append('F');
        if (f.Has(TcpFlags.Rst)) sb.Append('R');
        if (f.Has(TcpFlags.Psh)) sb.Append('P');
        if (f.Has(TcpFlags.Urg)) sb.Append('U');
        if (f.Has(TcpFlags.Ece)) sb.Append('E');
        if (f.Has(TcpFlags.Cwr)) sb.Append('W');
        if (f.Has(TcpFlags.Ack)) sb.Append('.');
        return sb.ToString();
    }

    /// <summary>Parses a packet line, or says why it cannot be run (unsupported) or read (malformed).</summary>
    public static ScriptPacket Parse(string text)
    {
        if (text.Contains("/udp", StringComparison.Ordinal)) throw new UnsupportedScriptException("TCP over UDP encapsulation");
        var s = new Scanner(text);
        bool inbound = s.Take() switch
        {
            '<' => true,
            '>' => false,
            _ => throw new FormatException("a packet starts with < or >"),
        };
        s.SkipSpace();
        EcnCodepoint? ecn = null;
        bool anyEct = false;
        if (s.Peek() == '[')
        {
            s.Take();
            string mark = s.Until(']');
            switch (mark)
            {
                case "noecn": ecn = EcnCodepoint.NotEct; break;
                case "ect0": ecn = EcnCodepoint.Ect0; break;
                case "ect1": ecn = EcnCodepoint.Ect1; break;
                case "ce": ecn = EcnCodepoint.Ce; break;
                case "ect01": anyEct = true; break;
                default: throw new FormatException($"unknown ECN mark [{mark}]");
            }
            s.SkipSpace();
        }
        byte? tos = null, hopLimit = null;
        while (s.Peek() == '(')
        {
            // IP header fields: (tos 0x20), (class 0x20), (ttl 4), (hlim 6).
            s.Take();
            var field = s.Until(')').Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (field.Length != 2) throw new FormatException($"IP field '({string.Join(' ', field)})'");
            byte value = (byte)ParseUInt(field[1]);
            switch (field[0])
            {
                case "tos" or "class": tos = value; break;
                case "ttl" or "hlim": hopLimit = value; break;
                default: throw new UnsupportedScriptException($"IP header field {field[0]}");
            }
            s.SkipSpace();
        }
        string flagText = s.Word();
        if (flagText == "icmp") throw new UnsupportedScriptException("ICMP sent by the stack");
        if (flagText.Contains('/')) throw new UnsupportedScriptException("UDP encapsulation");
        TcpFlags flags = 0;
        foreach (char c in flagText)
        {
            flags |= c switch
            {
                'S' => TcpFlags.Syn,
                'F' => TcpFlags.Fin,
                'R' => TcpFlags.Rst,
                'P' => TcpFlags.Psh,
                '.' => TcpFlags.Ack,
                'U' => TcpFlags.Urg,
                'E' => TcpFlags.Ece,
                'W' => TcpFlags.Cwr,
                '-' => 0, // Google's: no flags at all
                _ => throw new FormatException($"unknown flag '{c}'"),
            };
        }
        s.SkipSpace();
        bool absolute = false, anySeq = false;
        uint seq = 0, end = 0;
        int length;
        if (s.TryTake("..."))
        {
            // nplab: any sequence number (a new ISN the script cannot know), this many bytes.
            anySeq = true;
            s.Expect('(');
            length = checked((int)s.Number());
            s.Expect(')');
        }
        else
        {
            seq = s.Number();
            s.Expect(':');
            end = s.Number();
            s.Expect('(');
            length = checked((int)s.Number());
            s.Expect(')');
            if (unchecked(end - seq) != (uint)length) throw new FormatException($"{seq}:{end} is not {length} bytes");
        }
        if (s.Peek() == '!')
        {
            // nplab: the numbers are absolute, not relative to the ISNs.
            absolute = true;
            s.Take();
        }
        uint? ack = null;
        ushort? win = null;
        List<ScriptOption>? options = null;
        bool any = false;
        while (true)
        {
            s.SkipSpace();
            if (s.AtEnd) break;
            if (s.Peek() == '<')
            {
                s.Take();
                string body = s.Until('>');
                if (body.Trim() == "...") any = true;
                else options = ParseOptions(body);
                continue;
            }
            string word = s.Word();
            switch (word)
            {
                case "ack":
                    s.SkipSpace();
                    if (s.Peek() == '!') s.Take();
                    ack = s.Number();
                    break;
                case "win":
                    uint w = s.Number();
                    if (w > ushort.MaxValue) throw new FormatException($"win {w} does not fit 16 bits");
                    win = (ushort)w;
                    break;
                case "urg":
                    s.Number();
                    throw new UnsupportedScriptException("urgent pointer");
                default:
                    throw new FormatException($"unexpected '{word}'");
            }
        }
        return new ScriptPacket
        {
            Inbound = inbound,
            Flags = flags,
            Seq = seq,
            Length = length,
            Ack = ack,
            Window = win,
            Options = options,
            AnyOptions = any,
            Absolute = absolute,
            AnySequence = anySeq,
            Ecn = ecn,
            AnyEct = anyEct,
            TrafficClass = tos,
            HopLimit = hopLimit,
            Text = text,
        };
    }

    private static List<ScriptOption> ParseOptions(string body)
    {
        var list = new List<ScriptOption>();
        foreach (var raw in body.Split(','))
        {
            var parts = raw.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) throw new FormatException("empty option");
            list.Add(parts[0] switch
            {
                "nop" => new ScriptOption(TcpOptionKind.Nop),
                "eol" => new ScriptOption(TcpOptionKind.EndOfList),
                "mss" when parts.Length == 2 => new ScriptOption(TcpOptionKind.Mss, ParseUInt(parts[1])),
                "wscale" when parts.Length == 2 => new ScriptOption(TcpOptionKind.WindowScale, ParseUInt(parts[1])),
                "sackOK" => new ScriptOption(TcpOptionKind.SackPermitted),
                "TS" when parts.Length == 5 && parts[1] == "val" && parts[3] == "ecr" =>
                    new ScriptOption(TcpOptionKind.Timestamps, ParseUInt(parts[2]), ParseUInt(parts[4])),
                "sack" => new ScriptOption(TcpOptionKind.Sack, Blocks: [.. parts.Skip(1).Select(ParseBlock)]),
                "FO" or "FOEXP" => throw new UnsupportedScriptException("TCP fast open cookies"),
                "md5" => throw new UnsupportedScriptException("TCP MD5 signatures"),
                _ => throw new FormatException($"unknown option '{raw.Trim()}'"),
            });
        }
        return list;
    }

    private static (uint, uint) ParseBlock(string b)
    {
        int colon = b.IndexOf(':');
        if (colon < 0) throw new FormatException($"SACK block '{b}' is not left:right");
        return (ParseUInt(b[..colon]), ParseUInt(b[(colon + 1)..]));
    }

    private static uint ParseUInt(string s) =>
        s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
            ? uint.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
            : uint.Parse(s, NumberStyles.None, CultureInfo.InvariantCulture);

    /// <summary>Reads the options of a packet on the wire one by one, as a script would write them.</summary>
    public static List<ScriptOption> ReadWireOptions(ReadOnlySpan<byte> o)
    {
        var list = new List<ScriptOption>();
        var reader = new TcpOptionReader(o);
        while (reader.TryNext(out var kind, out int length, out var v))
        {
            bool fits = TcpOptionCodec.HasValidLength(kind, length);
            list.Add(kind switch
            {
                TcpOptionKind.Mss when fits => new ScriptOption(kind, TcpOptionCodec.ReadMss(v)),
                TcpOptionKind.WindowScale when fits => new ScriptOption(kind, v[0]),
                TcpOptionKind.Timestamps when fits => new ScriptOption(kind, TcpOptionCodec.ReadTimestamps(v).TsVal, TcpOptionCodec.ReadTimestamps(v).TsEcr),
                TcpOptionKind.Sack => new ScriptOption(kind, Blocks: ReadBlocks(v)),
                _ => new ScriptOption(kind),
            });
        }
        // A malformed option ends the list, named by its kind, as a script would show it.
        if (reader.Error != ParseError.None) list.Add(new ScriptOption((TcpOptionKind)o[reader.Offset]));
        return list;
    }

    private static (uint, uint)[] ReadBlocks(ReadOnlySpan<byte> v)
    {
        var blocks = new (uint, uint)[v.Length / TcpOptionCodec.SackBlockLength];
        for (int b = 0; b < blocks.Length; b++)
        {
            var block = TcpOptionCodec.ReadSackBlock(v, b);
            blocks[b] = (block.Left.Value, block.Right.Value);
        }
        return blocks;
    }

    /// <summary>Writes script options as bytes in the script's order (for injected packets).</summary>
    public static int WriteOptions(Span<byte> d, IReadOnlyList<ScriptOption> options, Func<uint, uint> mapSack, Func<uint, uint> mapEcr)
    {
        int n = 0;
        foreach (var opt in options)
        {
            n += opt.Kind switch
            {
                TcpOptionKind.EndOfList or TcpOptionKind.Nop => WriteByte(d[n..], (byte)opt.Kind),
                TcpOptionKind.Mss => TcpOptionCodec.WriteMss(d[n..], (ushort)opt.A),
                TcpOptionKind.WindowScale => TcpOptionCodec.WriteWindowScale(d[n..], (byte)opt.A),
                TcpOptionKind.SackPermitted => TcpOptionCodec.WriteSackPermitted(d[n..]),
                TcpOptionKind.Timestamps => TcpOptionCodec.WriteTimestamps(d[n..], opt.A, mapEcr(opt.B)),
                TcpOptionKind.Sack => WriteSack(d[n..], opt.Blocks ?? [], mapSack),
                _ => 0,
            };
            if (n > TcpOptions.MaxLength) throw new FormatException("options longer than 40 bytes");
        }
        return n;
    }

    private static int WriteByte(Span<byte> d, byte value)
    {
        d[0] = value;
        return 1;
    }

    private static int WriteSack(Span<byte> d, (uint Left, uint Right)[] blocks, Func<uint, uint> map)
    {
        int n = TcpOptionCodec.WriteSackHeader(d, blocks.Length);
        foreach (var (left, right) in blocks) n += TcpOptionCodec.WriteSackBlock(d[n..], new SackBlock(new SeqNum(map(left)), new SeqNum(map(right))));
        return n;
    }

    /// <summary>A small cursor over a line.</summary>
    private ref struct Scanner(string text)
    {
        private readonly string _t = text;
        private int _i;

        public readonly bool AtEnd => _i >= _t.Length;
        public readonly char Peek() => AtEnd ? '\0' : _t[_i];
        public char Take() => AtEnd ? '\0' : _t[_i++];

        public void SkipSpace()
        {
            while (!AtEnd && char.IsWhiteSpace(_t[_i])) _i++;
        }

        public string Word()
        {
            SkipSpace();
            int start = _i;
            while (!AtEnd && !char.IsWhiteSpace(_t[_i]) && _t[_i] != '<') _i++;
            return _t[start.._i];
        }

        public uint Number()
        {
            SkipSpace();
            int start = _i;
            while (!AtEnd && char.IsAsciiDigit(_t[_i])) _i++;
            if (start == _i) throw new FormatException($"expected a number at '{_t[start..]}'");
            return uint.Parse(_t.AsSpan(start, _i - start), CultureInfo.InvariantCulture);
        }

        public bool TryTake(string s)
        {
            if (string.CompareOrdinal(_t, _i, s, 0, s.Length) != 0) return false;
            _i += s.Length;
            return true;
        }

        public void Expect(char c)
        {
            SkipSpace();
            if (Take() != c) throw new FormatException($"expected '{c}'");
        }

        public string Until(char c)
        {
            int end = _t.IndexOf(c, _i);
            if (end < 0) throw new FormatException($"missing '{c}'");
            var s = _t[_i..end];
            _i = end + 1;
            return s;
        }
    }
}
