using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// Two ACK checks Linux tightened after Google's scripts were written, found by holding Synack to the
/// live kernel (6.18) with <c>synack conformance --target both</c>: an ACK of data never sent gets a
/// challenge ACK, and before anything is acknowledged an ACK below SND.UNA is too old. The Linux
/// profile keeps the older rules the scripts expect; <see cref="ConnectionOptions.Linux618"/> has the new.
/// </summary>
public sealed class Linux618AckRulesTests
{
    /// <summary>A passive open completed: SYN in, SYN-ACK out, the ACK of it in (as the scripts do it).</summary>
    private static ConnectionDriver Accepted(ConnectionOptions options)
    {
        var d = ConnectionDriver.InState(TcpState.SynReceived, options);
        d.PeerNxt = new SeqNum(ConnectionDriver.PeerIsn + 1);
        d.Inject(TcpFlags.Ack, d.PeerNxt, new SeqNum(ConnectionDriver.LocalIsn + 1));
        Assert.Equal(TcpState.Established, d.Connection.State);
        d.Clear();
        return d;
    }

    private static void InjectDataAcking(ConnectionDriver d, SeqNum ack, int length)
    {
        d.InjectHeader(new TcpHeader
        {
            SourcePort = ConnectionDriver.Tuple.RemotePort,
            DestinationPort = ConnectionDriver.Tuple.LocalPort,
            Seq = d.PeerNxt,
            Ack = ack,
            Flags = TcpFlags.Ack,
            Window = 65535,
        }, new byte[length]);
    }

    [Fact]
    public void Linux_6_18_answers_an_ack_of_unsent_data_with_a_challenge_ack_and_drops_the_segment()
    {
        var d = Accepted(ConnectionOptions.Linux618);
        InjectDataAcking(d, new SeqNum(ConnectionDriver.LocalIsn + 9999), 1000);
        var ack = Assert.Single(d.Sent);
        Assert.Equal(TcpFlags.Ack, ack.Header.Flags);
        Assert.Equal(d.PeerNxt, ack.Header.Ack); // nothing taken
        Assert.Equal(0, d.Connection.ReceiveQueued);
    }

    [Fact]
    public void The_scripts_linux_drops_it_without_a_word()
    {
        var d = Accepted(ConnectionOptions.Linux);
        InjectDataAcking(d, new SeqNum(ConnectionDriver.LocalIsn + 9999), 1000);
        Assert.Empty(d.Sent);
        Assert.Equal(0, d.Connection.ReceiveQueued);
    }

    [Fact]
    public void Linux_6_18_takes_an_ack_one_below_snd_una_as_too_old_before_anything_is_acknowledged()
    {
        var d = Accepted(ConnectionOptions.Linux618);
        InjectDataAcking(d, new SeqNum(ConnectionDriver.LocalIsn), 1000); // our ISN: one below SND.UNA
        var ack = Assert.Single(d.Sent);
        Assert.Equal(d.PeerNxt, ack.Header.Ack); // the challenge: the data was not taken
        Assert.Equal(0, d.Connection.ReceiveQueued);
    }

    [Fact]
    public void The_scripts_linux_takes_the_data_under_an_old_ack_within_the_window()
    {
        var d = Accepted(ConnectionOptions.Linux);
        InjectDataAcking(d, new SeqNum(ConnectionDriver.LocalIsn), 1000);
        Assert.Equal(1000, d.Connection.ReceiveQueued);
    }
}
