using Synack.Wire;

namespace Synack.Tcp.Tests;

public class IsnAndRtoTests
{
    private static readonly FourTuple A = new(IpAddr.Parse("192.0.2.1"), 40000, IpAddr.Parse("192.0.2.2"), 80);
    private static readonly FourTuple B = A with { LocalPort = 40001 };

    [Fact]
    public void Rfc6528_isn_moves_with_a_4_microsecond_clock_per_tuple()
    {
        var g = new Rfc6528IsnGenerator(new byte[32]);
        var t0 = g.Next(A, TimeSpan.Zero);
        var t1 = g.Next(A, TimeSpan.FromMilliseconds(1));
        Assert.Equal(250, t1 - t0); // 1 ms = 250 ticks of 4 us
        Assert.NotEqual(g.Next(B, TimeSpan.Zero), t0);
    }

    [Fact]
    public void Rfc6528_isn_depends_on_the_secret()
    {
        var g1 = new Rfc6528IsnGenerator(new byte[32]);
        var g2 = new Rfc6528IsnGenerator(Enumerable.Repeat((byte)9, 32).ToArray());
        Assert.NotEqual(g1.Next(A, TimeSpan.Zero), g2.Next(A, TimeSpan.Zero));
        Assert.Equal(g1.Next(A, TimeSpan.Zero), new Rfc6528IsnGenerator(new byte[32]).Next(A, TimeSpan.Zero));
        Assert.Throws<ArgumentException>(() => new Rfc6528IsnGenerator(new byte[8]));
    }

    [Fact]
    public void Rto_follows_rfc6298()
    {
        var rfc6298 = new ConnectionOptions
        {
            InitialRto = TimeSpan.FromSeconds(1), MinRto = TimeSpan.FromMilliseconds(200), MaxRto = TimeSpan.FromSeconds(120), MinRtoOnVariance = false,
        };
        var r = new RtoEstimator(rfc6298);
        Assert.Equal(TimeSpan.FromSeconds(1), r.Rto);
        r.Sample(TimeSpan.FromMilliseconds(100), rfc6298);
        // First sample: SRTT = R, RTTVAR = R/2, RTO = SRTT + 4 RTTVAR = 300 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(100), r.Srtt);
        Assert.Equal(TimeSpan.FromMilliseconds(300), r.Rto);
        r.Sample(TimeSpan.FromMilliseconds(100), rfc6298);
        // RTTVAR = 3/4 * 50 + 1/4 * 0 = 37.5 ms; SRTT stays 100 ms; RTO = 250 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(250), r.Rto);
        r.Backoff(rfc6298);
        Assert.Equal(TimeSpan.FromMilliseconds(500), r.Rto);
        for (int i = 0; i < 20; i++) r.Backoff(rfc6298);
        Assert.Equal(TimeSpan.FromSeconds(120), r.Rto);
        r.Sample(TimeSpan.FromMilliseconds(1), rfc6298); // a sample ends the backoff: RTO from SRTT and RTTVAR again
        Assert.Equal(TimeSpan.FromMilliseconds(299.125), r.Rto);

        var fast = new RtoEstimator(rfc6298);
        fast.Sample(TimeSpan.FromMilliseconds(1), rfc6298);
        Assert.Equal(TimeSpan.FromMilliseconds(200), fast.Rto); // the floor
    }

    [Fact]
    public void Karn_a_retransmitted_syn_gives_no_rtt_sample()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent);
        d.Advance(TimeSpan.FromSeconds(1.5)); // the SYN is retransmitted at 1 s
        d.InjectSyn(ack: true, ackNum: new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TcpState.Established, d.State);
        Assert.Null(d.Connection.SmoothedRtt);
        // RFC 6298 5.7: no sample from the handshake, so data starts with a 3 s RTO (not the backed-off 2 s).
        Assert.Equal(TimeSpan.FromSeconds(3), d.Connection.Rto);
    }

    [Fact]
    public void Without_rfc_6298_5_7_the_rto_stays_as_the_handshake_left_it()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent, new ConnectionOptions { RtoWithoutHandshakeSample = null });
        d.Advance(TimeSpan.FromSeconds(1.5));
        d.InjectSyn(ack: true, ackNum: new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TimeSpan.FromSeconds(2), d.Connection.Rto); // still backed off (FreeBSD's profile)
    }

    [Fact]
    public void An_unretransmitted_syn_gives_the_first_rtt_sample()
    {
        var d = ConnectionDriver.InState(TcpState.SynSent);
        d.Advance(TimeSpan.FromMilliseconds(40));
        d.InjectSyn(ack: true, ackNum: new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TimeSpan.FromMilliseconds(40), d.Connection.SmoothedRtt);
    }
}
