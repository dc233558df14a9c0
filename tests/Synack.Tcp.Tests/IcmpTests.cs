using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927).</summary>
public class IcmpTests
{
    private static IcmpError Error(IcmpErrorKind kind, SeqNum quoted, ushort mtu = 0) =>
        new(kind, 3, 3, ConnectionDriver.Tuple, quoted, mtu);

    [Fact]
    public void A_hard_error_quoting_our_syn_refuses_the_connect_and_one_quoting_anything_else_is_ignored()
    {
        var d = new ConnectionDriver();
        d.Connection.OpenActive(d.Now);
        d.Connection.OnIcmpError(Error(IcmpErrorKind.Refused, d.Connection.Iss + 1), d.Now); // nothing there is outstanding
        Assert.Equal(TcpState.SynSent, d.State);
        d.Connection.OnIcmpError(Error(IcmpErrorKind.Soft, d.Connection.Iss), d.Now);
        Assert.Equal(TcpState.SynSent, d.State);
        Assert.Equal(IcmpErrorKind.Soft, d.Connection.SoftError);
        d.Connection.OnIcmpError(Error(IcmpErrorKind.Refused, d.Connection.Iss), d.Now);
        Assert.Equal(TcpState.Closed, d.State);
        Assert.Equal(TcpError.ConnectionRefused, d.Connection.Error);
    }

    [Fact]
    public void A_hard_error_on_an_established_connection_is_only_remembered()
    {
        var d = ConnectionDriver.InState(TcpState.Established);
        d.Connection.Send(new byte[100], d.Now, out _);
        d.Connection.OnIcmpError(Error(IcmpErrorKind.Refused, d.Connection.SndUna), d.Now);
        Assert.Equal(TcpState.Established, d.State);
    }

    [Fact]
    public void An_ipv6_packet_too_big_lowers_the_mss_of_the_next_syn()
    {
        var tuple = new FourTuple(IpAddr.Parse("2001:db8::1"), 40000, IpAddr.Parse("2001:db8::2"), 80);
        var host = new ConnectionDriver();
        var c = new Connection(tuple, new ConnectionOptions(), new FixedIsnGenerator(1000), host);
        c.OpenActive(TimeSpan.Zero);
        Assert.Equal(1440, host.Last.Header.Options.Mss);
        c.OnIcmpError(new IcmpError(IcmpErrorKind.PacketTooBig, 2, 0, tuple, c.Iss, 1300), TimeSpan.Zero);
        c.OnTimer(TimeSpan.FromSeconds(1));
        Assert.Equal(1240, host.Last.Header.Options.Mss);
    }
}
