using Synack.Analysis;
using System.Buffers.Binary;
using System.Text;
using Synack.Conformance;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Fuzz;

/// <summary>
/// What the fuzzer throws bytes at: the packet parsers, the capture reader, the packetdrill parser,
/// and a whole stack (listener, handshakes, cookies, data, timers, socket calls) driven by segments
/// the bytes describe. Bad input must come back as an error value or the parser's documented
/// exception; anything else thrown is a crash. Shared with the regression tests, which replay the
/// corpus and every crash found through the same code.
/// </summary>
public static class FuzzTargets
{
    public static readonly string[] Names = ["packet", "capture", "packetdrill", "stack"];

    public static void Run(string target, ReadOnlySpan<byte> data)
    {
        switch (target)
        {
            case "packet": Packet(data); break;
            case "capture": Capture(data); break;
            case "packetdrill": Packetdrill(data); break;
            case "stack": StackInput(data); break;
            default: throw new ArgumentException($"no fuzz target '{target}' (targets: {string.Join(", ", Names)})");
        }
    }

    /// <summary>IPv4/IPv6, TCP with its options, ICMP errors: parsed, and what parses is printed and written back.</summary>
    public static void Packet(ReadOnlySpan<byte> data)
    {
        if (IpHeader.TryParse(data, out var ip, out _))
        {
            var body = data.Slice(ip.HeaderLength, Math.Min(ip.PayloadLength, data.Length - ip.HeaderLength));
            IcmpError.TryParse(body, ip.Source.IsV6, out _);
        }
        if (TcpPacket.TryParse(data, out ip, out var tcp, out _, verifyChecksum: false))
        {
            _ = TcpOptionText.Describe(data);
            var buf = new byte[TcpPacket.MaxLength(0)];
            TcpPacket.Write(buf, ip.Source, ip.Destination, in tcp, TcpOptionLayout.Established, default);
        }
    }

    /// <summary>
    /// pcap and pcapng (any link type, gzip or zstd or not): read packet by packet, every packet looked
    /// into, and the whole capture analyzed — every link type and tunnel decoded, fragments reassembled,
    /// checksums verified — with the text and JSON views and the HTML report written.
    /// </summary>
    public static void Capture(ReadOnlySpan<byte> data)
    {
        var bytes = data.ToArray();
        using (var reader = CaptureReader.Open(new MemoryStream(bytes)))
        {
            foreach (var p in reader.Packets()) Packet(p.Ip);
        }
        using (var reader = CaptureReader.Open(new MemoryStream(bytes)))
        {
            using var json = new JsonAnalysisWriter(Stream.Null, "fuzz.pcap", reader.Format, reader.Compression);
            CaptureAnalyzer.Run(reader, new AnalysisOptions { VerifyChecksums = true }, json);
        }
        using (var reader = CaptureReader.Open(new MemoryStream(bytes)))
        {
            CaptureAnalyzer.Run(reader, new AnalysisOptions(), new Both(new TextAnalysisWriter(TextWriter.Null), new DiagramAnalysisWriter(TextWriter.Null, "fuzz.pcap")));
        }
    }

    /// <summary>One analysis written two ways (the text view, and the HTML report with its graphs).</summary>
    private sealed class Both(IAnalysisWriter first, IAnalysisWriter second) : IAnalysisWriter
    {
        public void Packet(Conversation conversation, PacketView packet)
        {
            first.Packet(conversation, packet);
            second.Packet(conversation, packet);
        }

        public void End(AnalysisSummary summary)
        {
            first.End(summary);
            second.End(summary);
        }
    }

    /// <summary>A packetdrill script: parsed, or refused with a ScriptParseException that says where.</summary>
    public static void Packetdrill(ReadOnlySpan<byte> data)
    {
        try
        {
            PacketdrillParser.Parse(Encoding.UTF8.GetString(data), "fuzz.pkt");
        }
        catch (ScriptParseException)
        {
        }
        catch (UnsupportedScriptException)
        {
        }
    }

    /// <summary>
    /// A stack with a listener, known ISNs and a simulated clock, fed segments from four client ports:
    /// 12 bytes each — flags, port, seq and ack as offsets from the ISNs, payload length, options and
    /// a time step — with socket calls (accept, read, write, close, abort) taken from the same bytes.
    /// </summary>
    public static void StackInput(ReadOnlySpan<byte> data)
    {
        var client = IpAddr.Parse("198.51.100.1");
        var server = IpAddr.Parse("192.0.2.2");
        var stack = new NetworkStack(new StackOptions
        {
            Name = "fuzz",
            Addresses = [server],
            Secret = new byte[32],
            IsnGenerator = new FixedIsnGenerator(ServerIsn, 7),
            Connection = ConnectionOptions.Default with { SynCookies = (data.Length & 1) == 0 ? SynCookieMode.WhenNeeded : SynCookieMode.Always },
        }) { Output = new Sink() };
        var listener = TcpSocket.Create(stack);
        listener.Bind(80);
        listener.Listen(2);
        var accepted = new List<TcpSocket>();
        var now = TimeSpan.Zero;
        var packet = new byte[TcpPacket.MaxLength(255)];
        var payload = new byte[255];
        var scratch = new byte[4096];
        for (int i = 0; i + 12 <= data.Length; i += 12)
        {
            var r = data.Slice(i, 12);
            now += TimeSpan.FromMilliseconds((r[11] >> 4) * (r[11] >> 4) * 10);
            stack.Advance(now);
            ushort port = (ushort)(40000 + (r[1] & 3));
            var h = new TcpHeader
            {
                SourcePort = port,
                DestinationPort = (r[1] & 4) == 0 ? (ushort)80 : (ushort)81,
                Flags = (TcpFlags)r[0],
                Seq = new SeqNum(unchecked(ClientIsn + (uint)BinaryPrimitives.ReadInt32LittleEndian(r[2..]))),
                Ack = new SeqNum(unchecked(ServerIsn + (uint)BinaryPrimitives.ReadInt32LittleEndian(r[6..]))),
                Window = (ushort)(r[1] << 8 | r[10]),
            };
            byte o = r[11];
            if ((o & 1) != 0) { h.Options.HasMss = true; h.Options.Mss = (ushort)(r[10] * 8); }
            if ((o & 2) != 0) { h.Options.HasWindowScale = true; h.Options.WindowScale = (byte)(r[1] >> 3); }
            h.Options.SackPermitted = (o & 4) != 0;
            if ((o & 8) != 0) { h.Options.HasTimestamps = true; h.Options.TsVal = (uint)(now.TotalMilliseconds + r[10]); h.Options.TsEcr = unchecked((uint)now.TotalMilliseconds + 7 - r[1]); }
            int n = TcpPacket.Write(packet, client, server, in h, TcpOptionLayout.Established, payload.AsSpan(0, r[10] & 0x7F));
            stack.Receive(packet.AsSpan(0, n), now);

            // The application, as the same bytes say.
            if (listener.Accept(out _) is { } a) accepted.Add(a);
            if (accepted.Count == 0) continue;
            var s = accepted[r[1] % accepted.Count];
            switch (r[9] & 7)
            {
                case 0: s.Receive(scratch, out _); break;
                case 1: s.Send(scratch.AsSpan(0, r[10] * 16), out _); break;
                case 2: s.Shutdown(); break;
                case 3 when (r[9] & 0x30) == 0x30: s.Close(); break;
                case 4 when (r[9] & 0x30) == 0x30: s.Abort(); break;
                case 5: s.SetNoDelay((r[9] & 8) != 0); break;
            }
        }
        // Time runs out every timer: retransmissions give up, TIME-WAIT expires.
        for (int k = 0; k < 40; k++)
        {
            now += TimeSpan.FromSeconds(60);
            stack.Advance(now);
        }
    }

    private const uint ClientIsn = 5000;
    private const uint ServerIsn = 1000;
    // No static field may call into our assemblies: SharpFuzz's instrumentation has no shared memory
    // until Fuzzer.Run sets it up, and a type initializer runs before that.

    private sealed class Sink : IPacketSink
    {
        public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
        {
        }
    }
}
