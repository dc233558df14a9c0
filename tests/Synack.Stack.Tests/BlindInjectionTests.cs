using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// RFC 5961's blind attacker: it knows a connection's four-tuple (the server's port, the client's
/// address and port) but not its sequence numbers, and sends a million guesses — resets, SYNs, data
/// and bare ACKs at random numbers. None gets in: the connection stays ESTABLISHED, not a byte of the
/// guesses reaches the application, and the challenge ACKs they earn stay within their rate limit.
/// </summary>
public sealed class BlindInjectionTests
{
    [Fact]
    public void A_million_blind_guesses_neither_reset_the_connection_nor_put_a_byte_in_its_stream()
    {
        var net = new SimulatedNetwork(21);
        var (_, server, c, s) = ConnectedPair.Open(net);
        var tuple = c.Tuple; // the client's view: local = client

        var rng = new Random(5961);
        var buf = new byte[200];
        var junk = RandomNumberGenerator.GetBytes(100);
        long Guess(int count, Func<int, TcpFlags> flags)
        {
            long before = server.Statistics.PacketsOut;
            for (int i = 0; i < count; i++)
            {
                var f = flags(i);
                var h = new TcpHeader
                {
                    SourcePort = tuple.LocalPort,
                    DestinationPort = tuple.RemotePort,
                    Seq = new SeqNum((uint)rng.NextInt64(1L << 32)),
                    Ack = new SeqNum((uint)rng.NextInt64(1L << 32)),
                    Flags = f,
                    Window = 65535,
                };
                int n = TcpPacket.Write(buf, tuple.LocalAddress, tuple.RemoteAddress, in h, TcpOptionLayout.Established, f.Has(TcpFlags.Psh) ? junk : default);
                server.Receive(buf.AsSpan(0, n), net.Now);
                if (i % 75_000 == 74_999) net.RunFor(TimeSpan.FromSeconds(1)); // seconds go by, for the rate limits to be seen
            }
            return server.Statistics.PacketsOut - before;
        }

        // 750,000 resets, SYNs and bare ACKs over ten seconds: challenge ACKs at most 100 a second
        // (RFC 5961 7), a duplicate ACK for an invalid bare segment at most one per 500 ms (Linux's tcp_invalid_ratelimit).
        var start = net.Now;
        long answered = Guess(750_000, i => (i % 3) switch { 0 => TcpFlags.Rst, 1 => TcpFlags.Syn, _ => TcpFlags.Ack });
        double seconds = (net.Now - start).TotalSeconds + 1;
        Assert.True(answered <= (100 + 2) * seconds, $"{answered} packets sent in answer to 750,000 bare guesses in {seconds:F0} s");
        // 250,000 with data: each may get its duplicate ACK (Linux answers every one), never more.
        long answeredData = Guess(250_000, _ => TcpFlags.Ack | TcpFlags.Psh);
        Assert.True(answeredData <= 250_000, $"{answeredData} packets sent in answer to 250,000 data guesses");
        Assert.Equal(TcpState.Established, s.State);
        Assert.Equal(TcpState.Established, c.State);

        // The real stream, both ways, is exactly what the two applications wrote.
        var up = RandomNumberGenerator.GetBytes(300_000);
        var down = RandomNumberGenerator.GetBytes(300_000);
        var (gotUp, gotDown) = net.Run(async () =>
        {
            var w1 = c.WriteAsync(up);
            var w2 = s.WriteAsync(down);
            var a = await Reads.Exactly(s, up.Length);
            var b = await Reads.Exactly(c, down.Length);
            await w1;
            await w2;
            return (a, b);
        }, TimeSpan.FromMinutes(1));
        Assert.True(up.AsSpan().SequenceEqual(gotUp));
        Assert.True(down.AsSpan().SequenceEqual(gotDown));
    }
}
