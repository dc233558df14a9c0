using System.Text.Json;
using static Synack.Analysis.AnalysisRenderer;

namespace Synack.Analysis;

/// <summary>
/// The JSON view (a contract, documented in the README), written as the analysis goes: packets in frame
/// order first, then the conversations and the summary, so memory does not grow with the file.
/// </summary>
public sealed class JsonAnalysisWriter : IAnalysisWriter, IDisposable
{
    private readonly Utf8JsonWriter _w;

    /// <summary>Each packet's property names, encoded once (a million packets write each a million times).</summary>
    private static class N
    {
        public static readonly JsonEncodedText Ack = JsonEncodedText.Encode("ack");
        public static readonly JsonEncodedText AckRaw = JsonEncodedText.Encode("ackRaw");
        public static readonly JsonEncodedText Checksum = JsonEncodedText.Encode("checksum");
        public static readonly JsonEncodedText ClientState = JsonEncodedText.Encode("clientState");
        public static readonly JsonEncodedText Comment = JsonEncodedText.Encode("comment");
        public static readonly JsonEncodedText Findings = JsonEncodedText.Encode("findings");
        public static readonly JsonEncodedText Flags = JsonEncodedText.Encode("flags");
        public static readonly JsonEncodedText Frame = JsonEncodedText.Encode("frame");
        public static readonly JsonEncodedText From = JsonEncodedText.Encode("from");
        public static readonly JsonEncodedText Len = JsonEncodedText.Encode("len");
        public static readonly JsonEncodedText Seq = JsonEncodedText.Encode("seq");
        public static readonly JsonEncodedText SeqRaw = JsonEncodedText.Encode("seqRaw");
        public static readonly JsonEncodedText ServerState = JsonEncodedText.Encode("serverState");
        public static readonly JsonEncodedText Stream = JsonEncodedText.Encode("stream");
        public static readonly JsonEncodedText Time = JsonEncodedText.Encode("time");
        public static readonly JsonEncodedText Window = JsonEncodedText.Encode("window");
    }

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

    public void Packet(Conversation c, PacketView p)
    {
        var w = _w;
        w.WriteStartObject();
        w.WriteNumber(N.Frame, p.Frame);
        w.WriteNumber(N.Stream, p.Stream);
        w.WriteNumber(N.Time, p.Time);
        w.WriteString(N.From, p.FromClient ? "client" : "server");
        w.WriteString(N.Flags, p.FlagText);
        w.WriteNumber(N.Seq, p.Seq);
        w.WriteNumber(N.Ack, p.Ack);
        w.WriteNumber(N.SeqRaw, p.SeqRaw);
        w.WriteNumber(N.AckRaw, p.AckRaw);
        w.WriteNumber(N.Len, p.Length);
        w.WriteNumber(N.Window, p.Window);
        w.WriteStartArray(N.Findings);
        foreach (var f in p.Findings) w.WriteStringValue(f);
        w.WriteEndArray();
        w.WriteString(N.ClientState, Name(p.ClientState));
        w.WriteString(N.ServerState, Name(p.ServerState));
        w.WriteString(N.Checksum, Checksum(p));
        w.WriteString(N.Comment, p.Comment);
        w.WriteEndObject();
        if (w.BytesPending > 64 * 1024) w.Flush();
    }

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

    public void Dispose() => _w.Dispose();
}
