using System.Text.Json;
using Synack.Tcp;
using Synack.Wire;
using static Synack.Analysis.AnalysisRenderer;

namespace Synack.Analysis;

/// <summary>
/// The JSON view (a contract, documented in the README), written as the analysis goes: packets in frame
/// order first, then the conversations and the summary, so memory does not grow with the file.
/// </summary>
public sealed class JsonAnalysisWriter : IAnalysisWriter, IDisposable
{
    private readonly Utf8JsonWriter _w;

    /// <summary>A JSON document on <paramref name="output"/>, written as the capture is read.</summary>
    public JsonAnalysisWriter(Stream output, string? file, string format, string? compression, bool indented = false)
    {
        _w = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = indented, SkipValidation = true });
        _w.WriteStartObject();
        _w.WriteStartObject("capture");
        _w.WriteString("file", file);
        _w.WriteString("format", format);
        _w.WriteString("compression", compression);
        _w.WriteEndObject();
        _w.WriteStartArray("packets");
    }

    private byte[] _row = new byte[1024];
    private readonly Dictionary<IReadOnlyList<string>, byte[]> _findings = new(ReferenceEqualityComparer.Instance);
    private static readonly byte[][] StateJson = Enum.GetValues<TcpState>().Select(st => Encode(Name(st))).ToArray();
    private static readonly byte[][] FlagJson = Enumerable.Range(0, 256).Select(f => Encode(((TcpFlags)f).ToShortString())).ToArray();

    private static readonly byte[] EmptyArray = "[]"u8.ToArray();

    private static byte[] Encode(string? s) => s is null ? "null"u8.ToArray() : System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(s));

    /// <summary>
    /// One packet's object, put together as bytes (the parts that repeat are encoded once, numbers
    /// formatted in place) and handed to the writer whole: per-property writes were half the run time
    /// on a million packets.
    /// </summary>
    public void Packet(Conversation c, PacketView p)
    {
        var b = new RowBuilder(_row);
        b.Raw("{\"frame\":"u8); b.Number(p.Frame);
        b.Raw(",\"stream\":"u8); b.Number(p.Stream);
        b.Raw(",\"time\":"u8); b.Seconds(p.Time);
        b.Raw(p.FromClient ? ",\"from\":\"client\""u8 : ",\"from\":\"server\""u8);
        b.Raw(",\"flags\":"u8); b.Raw(FlagJson[(byte)p.Flags]);
        b.Raw(",\"seq\":"u8); b.Number(p.Seq);
        b.Raw(",\"ack\":"u8); b.Number(p.Ack);
        b.Raw(",\"seqRaw\":"u8); b.Number(p.SeqRaw);
        b.Raw(",\"ackRaw\":"u8); b.Number(p.AckRaw);
        b.Raw(",\"len\":"u8); b.Number(p.Length);
        b.Raw(",\"window\":"u8); b.Number(p.Window);
        b.Raw(",\"findings\":"u8); b.Raw(FindingsJson(p.Findings));
        b.Raw(",\"clientState\":"u8); b.Raw(StateJson[(int)p.ClientState]);
        b.Raw(",\"serverState\":"u8); b.Raw(StateJson[(int)p.ServerState]);
        b.Raw(Checksum(p) switch { "bad" => ",\"checksum\":\"bad\""u8, "good" => ",\"checksum\":\"good\""u8, _ => ",\"checksum\":null"u8 });
        b.Raw(",\"comment\":"u8);
        if (p.Comment is null) b.Raw("null"u8); else b.Raw(Encode(p.Comment));
        b.Raw("}"u8);
        if (b.Overflowed)
        {
            _row = new byte[_row.Length * 4];
            Packet(c, p);
            return;
        }
        _w.WriteRawValue(_row.AsSpan(0, b.Length), skipInputValidation: true);
        if (_w.BytesPending > 64 * 1024) _w.Flush();
    }

    private byte[] FindingsJson(IReadOnlyList<string> findings)
    {
        if (findings.Count == 0) return EmptyArray;
        if (!_findings.TryGetValue(findings, out var bytes))
        {
            bytes = System.Text.Encoding.UTF8.GetBytes(JsonSerializer.Serialize(findings));
            if (_findings.Count < 4096) _findings[findings] = bytes; // the analysis shares one array per combination
        }
        return bytes;
    }

    /// <summary>Appends to a fixed buffer; says so when it ran out instead of throwing.</summary>
    private ref struct RowBuilder(byte[] buffer)
    {
        private readonly Span<byte> _buf = buffer;
        public int Length;
        public bool Overflowed;

        public void Raw(scoped ReadOnlySpan<byte> bytes)
        {
            if (Overflowed || !bytes.TryCopyTo(_buf[Length..])) { Overflowed = true; return; }
            Length += bytes.Length;
        }

        public void Number(long v)
        {
            if (Overflowed || !System.Buffers.Text.Utf8Formatter.TryFormat(v, _buf[Length..], out int n)) { Overflowed = true; return; }
            Length += n;
        }

        /// <summary>Seconds to the nanosecond, as a plain decimal (no exponent, trailing zeros dropped).</summary>
        public void Seconds(double t)
        {
            long ns = (long)Math.Round(t * 1e9);
            if (ns < 0) { Raw("-"u8); ns = -ns; }
            Number(ns / 1_000_000_000);
            long frac = ns % 1_000_000_000;
            if (frac == 0) return;
            Span<byte> digits = stackalloc byte[10];
            digits[0] = (byte)'.';
            for (int i = 9; i >= 1; i--, frac /= 10) digits[i] = (byte)('0' + frac % 10);
            int end = 10;
            while (digits[end - 1] == '0') end--;
            Raw(digits[..end]);
        }
    }

    /// <summary>Closes the packets array and writes the conversations and the summary.</summary>
    public void End(AnalysisSummary s)
    {
        var w = _w;
        w.WriteEndArray();
        w.WriteStartArray("connections");
        foreach (var c in s.Conversations)
        {
            w.WriteStartObject();
            w.WriteNumber("stream", c.Stream);
            w.WriteString("client", c.Client);
            w.WriteString("server", c.Server);
            Number("clientIsn", c.ClientIsn);
            Number("serverIsn", c.ServerIsn);
            w.WriteStartObject("options");
            Options("client", c.ClientOptions);
            Options("server", c.ServerOptions);
            w.WriteEndObject();
            w.WriteString("closeKind", c.CloseKind);
            w.WriteString("connState", c.ConnState);
            w.WriteString("history", c.History);
            w.WriteStartObject("bytes");
            w.WriteNumber("client", c.ClientBytes);
            w.WriteNumber("server", c.ServerBytes);
            w.WriteEndObject();
            if (c.HandshakeRttMs is double rtt) w.WriteNumber("handshakeRttMs", rtt); else w.WriteNull("handshakeRttMs");
            w.WriteNumber("packets", c.PacketCount);
            w.WriteNumber("firstFrame", c.FirstFrame);
            w.WriteNumber("lastFrame", c.LastFrame);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("summary");
        w.WriteNumber("frames", s.Frames);
        w.WriteNumber("tcpFrames", s.TcpFrames);
        w.WriteNumber("otherIpFrames", s.OtherIpFrames);
        w.WriteNumber("nonIpFrames", s.NonIpFrames);
        w.WriteNumber("fragmentFrames", s.FragmentFrames);
        w.WriteNumber("fragmentsAbandoned", s.FragmentsAbandoned);
        w.WriteNumber("ipChecksumBad", s.IpChecksumBad);
        if (s.TcpChecksumBad is long bad) w.WriteNumber("tcpChecksumBad", bad); else w.WriteNull("tcpChecksumBad");
        Counts("unsupported", s.Unsupported);
        Counts("malformed", s.Malformed);
        w.WriteString("error", s.Error);
        w.WriteEndObject();
        w.WriteEndObject();
        w.Flush();
    }

    private void Number(string name, uint? v)
    {
        if (v is uint x) _w.WriteNumber(name, x); else _w.WriteNull(name);
    }

    private void Options(string name, SideOptions? o)
    {
        if (o is null)
        {
            _w.WriteNull(name);
            return;
        }
        _w.WriteStartObject(name);
        if (o.Mss is int mss) _w.WriteNumber("mss", mss); else _w.WriteNull("mss");
        if (o.WindowScale is int ws) _w.WriteNumber("wscale", ws); else _w.WriteNull("wscale");
        _w.WriteBoolean("sackPermitted", o.SackPermitted);
        _w.WriteBoolean("timestamps", o.Timestamps);
        _w.WriteEndObject();
    }

    private void Counts(string name, SortedDictionary<string, long> d)
    {
        _w.WriteStartObject(name);
        foreach (var (k, v) in d) _w.WriteNumber(k, v);
        _w.WriteEndObject();
    }

    /// <summary>Releases the JSON writer.</summary>
    public void Dispose() => _w.Dispose();
}
