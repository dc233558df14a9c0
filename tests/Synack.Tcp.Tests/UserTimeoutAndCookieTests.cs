using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Two transitions the connection's own tests did not reach (the transition mutants found them): the
/// USER TIMEOUT that ends a connection whose data goes unacknowledged, and the SYN-RECEIVED a
/// listener's connection enters when an ACK brings back a valid SYN cookie.
/// </summary>
public sealed class UserTimeoutAndCookieTests
{
    [Fact]
    public void Unacknowledged_data_ends_the_connection_when_the_user_timeout_passes_long_before_the_retries_would()
    {
        var d = ConnectionDriver.InState(TcpState.Established, ConnectionOptions.Default with { UserTimeout = TimeSpan.FromSeconds(3) });
        d.Connection.Send(new byte[100], d.Now, out var error);
        Assert.Equal(TcpError.None, error);
        d.Advance(TimeSpan.FromSeconds(10)); // the peer answers nothing

        Assert.Equal(TcpState.Closed, d.State);
        Assert.Contains((TcpState.Established, TcpState.Closed, "user timeout"), d.Transitions);
        Assert.Contains((ConnectionEvent.Failed, TcpError.TimedOut), d.Events);
        // RFC 9293 3.8.3: the user timeout, not the retry count, ended it (no RST either).
        Assert.DoesNotContain(d.Sent, s => (s.Header.Flags & TcpFlags.Rst) != 0);
    }

    [Fact]
    public void An_ack_that_returns_a_syn_cookie_takes_the_listener_s_connection_through_syn_received_to_established()
    {
        var d = ConnectionDriver.InState(TcpState.Listen);
        var cookie = new SeqNum(777_000);
        var ack = new TcpHeader
        {
            SourcePort = ConnectionDriver.Tuple.RemotePort,
            DestinationPort = ConnectionDriver.Tuple.LocalPort,
            Seq = new SeqNum(ConnectionDriver.PeerIsn + 1),
            Ack = cookie + 1,
            Flags = TcpFlags.Ack,
            Window = 1000,
        };
        d.Connection.OpenFromCookie(in ack, mss: 1460);
        Assert.Equal(TcpState.SynReceived, d.State);
        d.InjectHeader(in ack, default);

        Assert.Equal(
            [(TcpState.Listen, TcpState.SynReceived, "rcv ACK of a SYN cookie"), (TcpState.SynReceived, TcpState.Established, "rcv ACK of SYN")],
            d.Transitions.Skip(d.Transitions.FindIndex(t => t.To == TcpState.SynReceived)));
        Assert.Equal(cookie, d.Connection.Iss);
    }
}
