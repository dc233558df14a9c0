using Synack.Tcp;
using Synack.Wire;

namespace Synack.Tcp.Tests;

/// <summary>
/// One connection under test and a scripted peer, like packetdrill: the test injects segments and
/// reads back exactly what the connection sent. The peer's ISN is <see cref="PeerIsn"/>.
/// </summary>
internal sealed class ConnectionDriver : IConnectionHost
{
    public const uint LocalIsn = 1000;
    public const uint PeerIsn = 5000;
    public static readonly FourTuple Tuple = new(IpAddr.Parse("192.0.2.1"), 40000, IpAddr.Parse("192.0.2.2"), 80);

    /// <param name="segmentationOffload">The host's TSO limit (0: MSS-sized segments).</param>
    public ConnectionDriver(ConnectionOptions? options = null, int segmentationOffload = 0)
    {
        Options = options ?? new ConnectionOptions { Timestamps = false, Nagle = false };
        Connection = new Connection(Tuple, Options, new FixedIsnGenerator(LocalIsn), this) { SegmentationOffload = segmentationOffload };
    }

    public ConnectionOptions Options { get; }
    public Connection Connection { get; }
    public TimeSpan Now { get; set; }
    public List<(TcpHeader Header, byte[] Payload)> Sent { get; } = [];
    public List<(TcpState From, TcpState To, string Cause)> Transitions { get; } = [];
    public List<(ConnectionEvent Event, TcpError Error)> Events { get; } = [];
    public List<TcpTimer> Timers { get; } = [];

    /// <summary>The peer's next sequence number (what it would send next).</summary>
    public SeqNum PeerNxt { get; set; } = new(PeerIsn + 1);

    public TcpState State => Connection.State;

    public void Clear()
    {
        Sent.Clear();
        Transitions.Clear();
        Events.Clear();
        Timers.Clear();
    }

    /// <summary>A pure ACK from the peer carrying SACK blocks.</summary>
    public void AckWithSacks(SeqNum ack, ushort window, params SackBlock[] blocks)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.RemotePort,
            DestinationPort = Tuple.LocalPort,
            Seq = PeerNxt,
            Ack = ack,
            Flags = TcpFlags.Ack,
            Window = window,
        };
        foreach (var b in blocks) h.Options.AddSackBlock(b);
        InjectHeader(in h, default);
    }

    public void Inject(TcpFlags flags, SeqNum seq, SeqNum ack, int length = 0, ushort window = 65535)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.RemotePort,
            DestinationPort = Tuple.LocalPort,
            Seq = seq,
            Ack = ack,
            Flags = flags,
            Window = window,
        };
        var payload = new byte[length];
        for (int i = 0; i < length; i++) payload[i] = (byte)i;
        Connection.OnSegment(in h, payload, Now);
    }

    public void InjectHeader(in TcpHeader h, ReadOnlySpan<byte> payload) => Connection.OnSegment(in h, payload, Now);

    /// <summary>The peer's data at <paramref name="seq"/>, acking all we sent, with these exact bytes.</summary>
    public void InjectData(SeqNum seq, ReadOnlySpan<byte> payload) => InjectHeader(new TcpHeader
    {
        SourcePort = Tuple.RemotePort,
        DestinationPort = Tuple.LocalPort,
        Seq = seq,
        Ack = Connection.SndNxt,
        Flags = TcpFlags.Ack,
        Window = 65535,
    }, payload);

    /// <summary>The peer's SYN with a typical option set.</summary>
    public void InjectSyn(bool ack = false, SeqNum? ackNum = null)
    {
        var h = new TcpHeader
        {
            SourcePort = Tuple.RemotePort,
            DestinationPort = Tuple.LocalPort,
            Seq = new SeqNum(PeerIsn),
            Ack = ackNum ?? default,
            Flags = ack ? TcpFlags.Syn | TcpFlags.Ack : TcpFlags.Syn,
            Window = 65535,
        };
        h.Options.HasMss = true;
        h.Options.Mss = 1460;
        h.Options.HasWindowScale = true;
        h.Options.WindowScale = 7;
        h.Options.SackPermitted = true;
        Connection.OnSegment(in h, default, Now);
    }

    public void Advance(TimeSpan by)
    {
        var end = Now + by;
        while (Connection.NextDeadline <= end)
        {
            Now = Connection.NextDeadline > Now ? Connection.NextDeadline : Now;
            Connection.OnTimer(Now);
        }
        Now = end;
    }

    public (TcpHeader Header, byte[] Payload) Last => Sent[^1];

    void IConnectionHost.Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        // Round-trip through the wire format: what the test sees is what a peer would parse.
        var buf = new byte[TcpHeader.MaxLength + payload.Length];
        int hl = TcpHeader.Write(buf, in header, layout);
        payload.CopyTo(buf.AsSpan(hl));
        Assert.True(TcpHeader.TryParse(buf.AsSpan(0, hl + payload.Length), out var parsed, out var err), err.Describe());
        Sent.Add((parsed, payload.ToArray()));
    }

    void IConnectionHost.StateChanged(Connection connection, TcpState from, TcpState to, string cause) => Transitions.Add((from, to, cause));
    void IConnectionHost.Notify(Connection connection, ConnectionEvent e, TcpError error) => Events.Add((e, error));
    void IConnectionHost.TimerFired(Connection connection, TcpTimer timer) => Timers.Add(timer);

    // ------------------------------------------------------------ recipes: how to reach each state

    public static ConnectionDriver InState(TcpState state, ConnectionOptions? options = null, int segmentationOffload = 0)
    {
        var d = new ConnectionDriver(options, segmentationOffload);
        var c = d.Connection;
        switch (state)
        {
            case TcpState.Closed:
                break;
            case TcpState.Listen:
                c.OpenPassive();
                break;
            case TcpState.SynSent:
                c.OpenActive(d.Now);
                break;
            case TcpState.SynReceived:
                c.OpenPassive();
                d.InjectSyn();
                break;
            default:
                d.Establish();
                d.Reach(state);
                break;
        }
        Assert.Equal(state, c.State);
        d.Clear();
        return d;
    }

    private void Establish()
    {
        Connection.OpenActive(Now);
        InjectSyn(ack: true, ackNum: new SeqNum(LocalIsn + 1));
        Assert.Equal(TcpState.Established, Connection.State);
    }

    private void Reach(TcpState state)
    {
        var c = Connection;
        var ourFin = new SeqNum(LocalIsn + 1);
        switch (state)
        {
            case TcpState.Established:
                break;
            case TcpState.FinWait1:
                c.Shutdown(Now);
                break;
            case TcpState.FinWait2:
                c.Shutdown(Now);
                Inject(TcpFlags.Ack, PeerNxt, ourFin + 1);
                break;
            case TcpState.CloseWait:
                Inject(TcpFlags.Fin | TcpFlags.Ack, PeerNxt, ourFin);
                PeerNxt += 1;
                break;
            case TcpState.Closing:
                c.Shutdown(Now);
                Inject(TcpFlags.Fin | TcpFlags.Ack, PeerNxt, ourFin); // crosses our FIN: does not ack it
                PeerNxt += 1;
                break;
            case TcpState.LastAck:
                Inject(TcpFlags.Fin | TcpFlags.Ack, PeerNxt, ourFin);
                PeerNxt += 1;
                c.Shutdown(Now);
                break;
            case TcpState.TimeWait:
                c.Shutdown(Now);
                Inject(TcpFlags.Ack, PeerNxt, ourFin + 1);
                Inject(TcpFlags.Fin | TcpFlags.Ack, PeerNxt, ourFin + 1);
                PeerNxt += 1;
                break;
        }
    }
}
