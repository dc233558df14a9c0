using BenchmarkDotNet.Attributes;
using Synack.Wire;

namespace Synack.Bench;

/// <summary>The per-segment cost of the wire format: parse with checksum, and write.</summary>
[MemoryDiagnoser]
public class WireBenchmarks
{
    private readonly byte[] _packet = new byte[1600];
    private readonly byte[] _payload = new byte[1448];
    private int _length;
    private TcpHeader _header;
    private readonly IpAddr _a = IpAddr.Parse("192.0.2.1");
    private readonly IpAddr _b = IpAddr.Parse("192.0.2.2");

    [GlobalSetup]
    public void Setup()
    {
        new Random(1).NextBytes(_payload);
        _header = new TcpHeader { SourcePort = 40000, DestinationPort = 80, Seq = new SeqNum(1), Ack = new SeqNum(2), Flags = TcpFlags.Ack | TcpFlags.Psh, Window = 512 };
        _header.Options.HasTimestamps = true;
        _header.Options.TsVal = 1;
        _length = TcpPacket.Write(_packet, _a, _b, in _header, TcpOptionLayout.Established, _payload);
    }

    [Benchmark]
    public bool ParseFullSegment() => TcpPacket.TryParse(_packet.AsSpan(0, _length), out _, out _, out _);

    [Benchmark]
    public int WriteFullSegment() => TcpPacket.Write(_packet, _a, _b, in _header, TcpOptionLayout.Established, _payload);
}
