using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>ECN setup (RFC 3168 6.1.1): who asks, who agrees, and what the SYNs carry.</summary>
public class EcnTests
{
    private static TcpHeader Syn(TcpFlags extra) => new()
    {
        SourcePort = ConnectionDriver.Tuple.RemotePort,
        DestinationPort = ConnectionDriver.Tuple.LocalPort,
        Seq = new SeqNum(ConnectionDriver.PeerIsn),
        Flags = TcpFlags.Syn | extra,
        Window = 65535,
    };

    [Theory]
    [InlineData(EcnMode.Accept, TcpFlags.Ece | TcpFlags.Cwr, true)]
    [InlineData(EcnMode.Off, TcpFlags.Ece | TcpFlags.Cwr, false)]
    [InlineData(EcnMode.Accept, TcpFlags.Ece, false)] // not an ECN-setup SYN: it needs both bits
    public void A_listener_agrees_to_ecn_only_when_asked_and_allowed(EcnMode mode, TcpFlags synBits, bool agreed)
    {
        var d = new ConnectionDriver(new ConnectionOptions { Ecn = mode });
        d.Connection.OpenPassive();
        d.InjectHeader(Syn(synBits), default);
        var synAck = d.Last.Header;
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack | (agreed ? TcpFlags.Ece : 0), synAck.Flags);
        Assert.Equal(agreed, d.Connection.EcnNegotiated);
    }

    [Fact]
    public void A_requesting_client_stops_asking_after_its_setup_retries()
    {
        var d = new ConnectionDriver(new ConnectionOptions { Ecn = EcnMode.Request, EcnSetupRetries = 1 });
        d.Connection.OpenActive(d.Now);
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, d.Last.Header.Flags);
        d.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ece | TcpFlags.Cwr, d.Last.Header.Flags); // first retry still asks
        d.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(TcpFlags.Syn, d.Last.Header.Flags);                               // then it falls back
        Assert.Equal(EcnCodepoint.NotEct, d.Last.Header.Ecn);                           // SYNs are never ECT
    }
}
