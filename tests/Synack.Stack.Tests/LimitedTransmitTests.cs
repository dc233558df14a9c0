using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// RFC 3042 on the simulated link: with a congestion window of three segments and the first one lost,
/// only two duplicate ACKs can come back — one short of fast retransmit. Limited transmit sends a new
/// segment on each, which brings the third; without it the sender waits for its retransmission timer.
/// </summary>
public sealed class LimitedTransmitTests
{
    private static TimeSpan DeliveryTime(bool limitedTransmit)
    {
        var options = ConnectionOptions.Default with { InitialWindowSegments = 3, LimitedTransmit = limitedTransmit, Nagle = false };
        var net = new SimulatedNetwork(1);
        var sender = net.AddHost("sender", "192.0.2.1", options);
        var receiver = net.AddHost("receiver", "192.0.2.2", options);
        var link = net.Connect(new LinkOptions { Latency = TimeSpan.FromMilliseconds(10) }, sender, receiver);
        link.Drop((from, packet) => from == sender && HasPayload(packet)); // the first data segment
        const int bytes = 10 * 1460;
        return net.Run(async () =>
        {
            var listener = TcpListener.Start(receiver, 5001);
            var accept = listener.AcceptAsync();
            var client = await TcpConnection.ConnectAsync(sender, IpAddr.Parse("192.0.2.2"), 5001);
            var server = await accept;
            var start = net.Now;
            await client.WriteAsync(new byte[bytes]);
            var buffer = new byte[bytes];
            for (int got = 0; got < bytes;) got += await server.ReadAsync(buffer.AsMemory(got));
            return net.Now - start;
        }, TimeSpan.FromMinutes(1));
    }

    private static bool HasPayload(byte[] packet) =>
        IpHeader.TryParse(packet, out var ip, out _)
        && TcpHeader.TryParse(packet.AsSpan(ip.HeaderLength, ip.PayloadLength), out var tcp, out _)
        && ip.PayloadLength > tcp.HeaderLength;

    [Fact]
    public void Two_new_segments_on_the_first_duplicate_acks_bring_the_third_and_fast_retransmit_instead_of_a_timeout()
    {
        var with = DeliveryTime(limitedTransmit: true);
        var without = DeliveryTime(limitedTransmit: false);
        // 20 ms round trips: a few of them with limited transmit; at least the 200 ms minimum RTO without.
        Assert.True(with < TimeSpan.FromMilliseconds(150), $"with limited transmit: {with}");
        Assert.True(without >= TimeSpan.FromMilliseconds(200), $"without: {without}");
    }
}
