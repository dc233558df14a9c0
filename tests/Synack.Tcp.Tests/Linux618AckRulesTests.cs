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

/// <summary>
/// The window Linux offers, found the same way: half the receive buffer (its accounting keeps the other
/// half for overhead), in whole segments of the MSS it announced, the field rounded up to the scale.
/// </summary>
public sealed class Linux618WindowTests
{
    [Fact]
    public void A_syn_ack_from_a_128_KiB_buffer_offers_64240_as_the_kernel_does()
    {
        var d = ConnectionDriver.InState(TcpState.Listen, ConnectionOptions.Linux618 with { ReceiveBufferSize = 131072 });
        d.InjectSyn();
        var synAck = d.Last.Header;
        Assert.Equal(TcpFlags.Syn | TcpFlags.Ack, synAck.Flags);
        Assert.Equal(44 * 1460, synAck.Window); // 65536 rounded down to whole 1460-byte segments
    }

    [Fact]
    public void After_the_handshake_a_540000_byte_buffer_offers_1050_at_scale_8()
    {
        // defaults.sh's tcp_rmem: 270000 rounded down to 184 segments of 1460 = 268640, rounded up to 256s.
        var d = ConnectionDriver.InState(TcpState.Listen, ConnectionOptions.Linux618 with { ReceiveBufferSize = 540000, WindowScale = 8 });
        d.InjectSyn();
        d.Inject(TcpFlags.Ack, new SeqNum(ConnectionDriver.PeerIsn + 1), new SeqNum(ConnectionDriver.LocalIsn + 1));
        d.Clear();
        d.InjectData(new SeqNum(ConnectionDriver.PeerIsn + 1), new byte[100]);
        d.Advance(TimeSpan.FromSeconds(1)); // the delayed ACK
        var ack = d.Sent.Last(s => s.Header.Flags == TcpFlags.Ack).Header;
        Assert.Equal(1050, ack.Window); // half the free space is still above the initial window: it stays
    }

    [Fact]
    public void The_scripts_linux_offers_its_whole_buffer()
    {
        var d = ConnectionDriver.InState(TcpState.Listen, ConnectionOptions.Linux with { ReceiveBufferSize = 131072 });
        d.InjectSyn();
        Assert.Equal(65535, d.Last.Header.Window);
    }
}

/// <summary>
/// The ACK of a FIN that brings data: Linux 6.18's tcp_fin ends quickack mode first, so one segment's
/// worth waits for the delayed-ACK timer; the scripts' older kernel acked it at once.
/// </summary>
public sealed class Linux618FinAckTests
{
    private static ConnectionDriver FinWithData(ConnectionOptions options, int length)
    {
        var d = ConnectionDriver.InState(TcpState.Listen, options);
        d.InjectSyn();
        d.Inject(TcpFlags.Ack, new SeqNum(ConnectionDriver.PeerIsn + 1), new SeqNum(ConnectionDriver.LocalIsn + 1));
        d.Clear();
        d.InjectHeader(new TcpHeader
        {
            SourcePort = ConnectionDriver.Tuple.RemotePort,
            DestinationPort = ConnectionDriver.Tuple.LocalPort,
            Seq = new SeqNum(ConnectionDriver.PeerIsn + 1),
            Ack = new SeqNum(ConnectionDriver.LocalIsn + 1),
            Flags = TcpFlags.Fin | TcpFlags.Psh | TcpFlags.Ack,
            Window = 65535,
        }, new byte[length]);
        return d;
    }

    [Fact]
    public void Linux_6_18_delays_the_ack_of_one_segment_with_a_fin()
    {
        var d = FinWithData(ConnectionOptions.Linux618, 1000);
        Assert.Empty(d.Sent);
        d.Advance(TimeSpan.FromMilliseconds(40));
        var ack = Assert.Single(d.Sent);
        Assert.Equal(new SeqNum(ConnectionDriver.PeerIsn + 1 + 1000 + 1), ack.Header.Ack);
    }

    [Fact]
    public void Linux_6_18_acks_at_once_when_more_than_a_full_segment_came()
    {
        var d = FinWithData(ConnectionOptions.Linux618, 10000);
        Assert.Single(d.Sent);
    }

    [Fact]
    public void The_scripts_linux_acks_it_at_once_in_quickack_mode()
    {
        var d = FinWithData(ConnectionOptions.Linux, 1000);
        Assert.Single(d.Sent);
    }
}
