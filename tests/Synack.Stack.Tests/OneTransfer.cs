using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// One transfer over the simulated link (10 ms each way) with chosen data segments lost: how long the
/// receiver waited for all of it, in virtual time, and the sender's connection afterwards.
/// </summary>
internal static class OneTransfer
{
    public static (TimeSpan Elapsed, Connection Sender) Run(ConnectionOptions options, int bytes, Func<int, bool> dropDataSegment, Action<string>? log = null, LinkConditions? link = null) =>
        Run(options, bytes, dropDataSegment, log, link, out _);

    public static (TimeSpan Elapsed, Connection Sender) Run(ConnectionOptions options, int bytes, Func<int, bool> dropDataSegment, Action<string>? log, LinkConditions? linkOptions, out MemoryLink usedLink)
    {
        var net = new SimulatedNetwork(1);
        var sender = net.AddHost("sender", "192.0.2.1", options);
        var receiver = net.AddHost("receiver", "192.0.2.2", options);
        var link = usedLink = net.Connect(linkOptions ?? new LinkConditions { Latency = TimeSpan.FromMilliseconds(10) }, sender, receiver);
        int dataSegments = 0;
        if (log is not null) link.Tap = (from, packet, now) => log(Describe(from, packet.Span, now));
        link.Drop((from, packet) => from == sender && HasPayload(packet) && dropDataSegment(dataSegments++), times: int.MaxValue);
        Connection? protocol = null;
        var elapsed = net.Run(async () =>
        {
            var listener = TcpListener.Start(receiver, 5001);
            var accept = listener.AcceptAsync();
            var client = await TcpConnection.ConnectAsync(sender, IpAddr.Parse("192.0.2.2"), 5001);
            protocol = client.Protocol;
            var server = await accept;
            var start = net.Now;
            await client.WriteAsync(new byte[bytes]);
            var buffer = new byte[bytes];
            for (int got = 0; got < bytes;) got += await server.ReadAsync(buffer.AsMemory(got));
            return net.Now - start;
        }, TimeSpan.FromMinutes(1));
        return (elapsed, protocol!);
    }

    private static string Describe(INetworkNode from, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        IpHeader.TryParse(packet, out var ip, out _);
        var segment = packet.Slice(ip.HeaderLength, ip.PayloadLength);
        TcpHeader.TryParse(segment, out var tcp, out _);
        var sack = tcp.Options.SackBlockCount > 0 ? $" sack {tcp.Options.SackBlocks[0].Left}-{tcp.Options.SackBlocks[0].Right}" : "";
        return $"{now.TotalMilliseconds,8:F1} {from.Name,-8} {tcp.Flags} seq {tcp.Seq} ack {tcp.Ack} len {segment.Length - tcp.HeaderLength}{sack}";
    }

    private static bool HasPayload(byte[] packet) =>
        IpHeader.TryParse(packet, out var ip, out _)
        && TcpHeader.TryParse(packet.AsSpan(ip.HeaderLength, ip.PayloadLength), out var tcp, out _)
        && ip.PayloadLength > tcp.HeaderLength;
}
