using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Hostile input: 100,000 random and mutated segments per state, with timers and user calls mixed in.
/// No exception, and the invariants hold after every input.
/// </summary>
public class ConnectionPropertyTests
{
    public static TheoryData<TcpState> States()
    {
        var d = new TheoryData<TcpState>();
        foreach (var s in Enum.GetValues<TcpState>()) d.Add(s);
        return d;
    }

    [Theory]
    [MemberData(nameof(States))]
    public void Random_segments_never_break_a_connection(TcpState state)
    {
        var rng = new Random(1000 + (int)state);
        var opts = new ConnectionOptions { ReceiveBufferSize = 16 * 1024, SendBufferSize = 16 * 1024, KeepAlive = true, ChallengeAckLimit = 1000 };
        var d = ConnectionDriver.InState(state, opts);
        var payload = new byte[3000];
        var raw = new byte[80];
        int recreated = 0;
        for (int i = 0; i < 100_000; i++)
        {
            var c = d.Connection;
            int sentBefore = d.Sent.Count;
            int roll = rng.Next(100);
            if (roll < 80)
            {
                var h = RandomHeader(rng, c, d);
                int len = rng.Next(4) == 0 ? rng.Next(payload.Length) : rng.Next(3) == 0 ? rng.Next(20) : 0;
                rng.NextBytes(payload.AsSpan(0, len));
                d.InjectHeader(in h, payload.AsSpan(0, len));
            }
            else if (roll < 90)
            {
                // Bytes off the wire: whatever parses goes in.
                rng.NextBytes(raw);
                raw[12] = (byte)((rng.Next(5, 16)) << 4);
                if (TcpHeader.TryParse(raw, out var h, out _)) d.InjectHeader(in h, raw.AsSpan(h.HeaderLength));
            }
            else if (roll < 95)
            {
                d.Advance(TimeSpan.FromMilliseconds(rng.Next(1, 5000)));
            }
            else
            {
                switch (rng.Next(6))
                {
                    case 0: c.Send(payload.AsSpan(0, rng.Next(2000)), d.Now, out _); break;
                    case 1: c.Receive(payload, d.Now, out _); break;
                    case 2: c.Shutdown(d.Now); break;
                    case 3: if (rng.Next(10) == 0) c.Close(d.Now); break;
                    case 4: if (rng.Next(50) == 0) c.Abort(d.Now); break;
                    default: c.OpenPassive(); break;
                }
            }
            CheckInvariants(c, d, sentBefore);
            if (c.State == TcpState.Closed && rng.Next(20) == 0)
            {
                d = ConnectionDriver.InState(state, opts);
                recreated++;
            }
            if (d.Sent.Count > 10_000) d.Clear();
        }
    }

    private static TcpHeader RandomHeader(Random rng, Connection c, ConnectionDriver d)
    {
        var flags = (TcpFlags)rng.Next(256);
        if (rng.Next(3) == 0) flags = rng.Next(2) == 0 ? TcpFlags.Ack : TcpFlags.Ack | TcpFlags.Psh;
        SeqNum seq = rng.Next(4) switch
        {
            0 => new SeqNum((uint)rng.NextInt64(0, 1L << 32)),
            1 => c.RcvNxt,
            _ => c.RcvNxt + rng.Next(-70000, 70000),
        };
        SeqNum ack = rng.Next(4) switch
        {
            0 => new SeqNum((uint)rng.NextInt64(0, 1L << 32)),
            1 => c.SndMax,
            _ => c.SndUna + rng.Next(-70000, 70000),
        };
        var h = new TcpHeader
        {
            SourcePort = ConnectionDriver.Tuple.RemotePort,
            DestinationPort = ConnectionDriver.Tuple.LocalPort,
            Seq = seq,
            Ack = ack,
            Flags = flags,
            Window = (ushort)rng.Next(65536),
        };
        if (rng.Next(3) == 0)
        {
            h.Options.HasMss = rng.Next(2) == 0;
            h.Options.Mss = (ushort)rng.Next(65536);
            h.Options.HasWindowScale = rng.Next(2) == 0;
            h.Options.WindowScale = (byte)rng.Next(256);
            h.Options.SackPermitted = rng.Next(2) == 0;
            h.Options.HasTimestamps = rng.Next(2) == 0;
            h.Options.TsVal = (uint)rng.NextInt64(0, 1L << 32);
            h.Options.TsEcr = (uint)rng.NextInt64(0, 1L << 32);
        }
        return h;
    }

    private static void CheckInvariants(Connection c, ConnectionDriver d, int sentBefore)
    {
        Assert.True(Enum.IsDefined(c.State));
        if (c.State is not (TcpState.Closed or TcpState.Listen))
        {
            Assert.True(c.SndUna <= c.SndNxt, $"SND.UNA {c.SndUna} > SND.NXT {c.SndNxt} in {c.State}");
            Assert.True(c.SndNxt <= c.SndMax, $"SND.NXT {c.SndNxt} > SND.MAX {c.SndMax} in {c.State}");
            // Nothing is in flight beyond the send buffer plus SYN and FIN.
            Assert.True(c.SndMax - c.SndUna <= c.SendQueued + 2, $"flight {c.SndMax - c.SndUna} with {c.SendQueued} queued");
        }
        Assert.InRange(c.SendQueued, 0, c.Options.SendBufferSize);
        Assert.InRange(c.ReceiveQueued, 0, c.Options.ReceiveBufferSize);
        Assert.True(c.RcvWnd <= (uint)c.Options.ReceiveBufferSize, $"RCV.WND {c.RcvWnd}");
        // One input never makes a burst larger than the send buffer in full-sized segments.
        Assert.True(d.Sent.Count - sentBefore <= 64, $"{d.Sent.Count - sentBefore} segments for one input");
        Assert.True(c.NextDeadline >= d.Now, $"a deadline in the past: {c.NextDeadline} < {d.Now}");
    }
}
