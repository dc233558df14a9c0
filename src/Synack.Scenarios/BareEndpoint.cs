using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>
/// A host with (at most) one bare <see cref="Connection"/> and the application on top of it, on the
/// simulated network like any stack: it is the connection's host, so segments become real IP packets
/// with checksums on the link, and packets from the link go straight to the connection.
/// </summary>
public sealed class BareEndpoint : ScenarioEndpoint, INetworkNode, IConnectionHost
{
    private readonly BareRun _run;
    private readonly MemoryStream _received = new();
    private readonly IpAddr[] _addresses;

    internal BareEndpoint(BareRun run, string name, IpAddr address, ushort port, ConnectionOptions options, IIsnGenerator isn)
    {
        _run = run;
        Name = name;
        _addresses = [address];
        Port = port;
        Options = options;
        IsnGenerator = isn;
    }

    /// <summary>The endpoint's name in the trace ("client", "server").</summary>
    public override string Name { get; }
    /// <summary>The endpoint's address.</summary>
    public override IpAddr Address => _addresses[0];
    /// <summary>The endpoint's port.</summary>
    public override ushort Port { get; }
    /// <summary>The profile the next connection is made with.</summary>
    public ConnectionOptions Options { get; set; }
    /// <summary>Where the next connection's ISN comes from.</summary>
    public IIsnGenerator IsnGenerator { get; set; }
    /// <summary>The connection, once the endpoint has listened or connected.</summary>
    public Connection? Connection { get; private set; }
    /// <summary>The endpoint at the other end of the link.</summary>
    public BareEndpoint Peer { get; internal set; } = null!;
    /// <summary>The connection's state; CLOSED before there is one.</summary>
    public override TcpState State => Connection?.State ?? TcpState.Closed;

    /// <summary>Bytes the application has read so far.</summary>
    public byte[] ReceivedBytes => _received.ToArray();
    /// <summary>How many bytes the application has read so far.</summary>
    public long ReceivedCount => _received.Length;
    /// <summary>True once a read returned the end of the stream (the peer's FIN).</summary>
    public bool SawEndOfStream { get; private set; }
    /// <summary>Every user event the connection reported, with its error.</summary>
    public List<(ConnectionEvent Event, TcpError Error)> Events { get; } = [];
    /// <summary>The error of the last event that carried one.</summary>
    public TcpError LastError { get; private set; }

    /// <summary>Read data as soon as it is readable (the application is always reading).</summary>
    public bool AutoRead { get; set; } = true;

    /// <summary>The application's reaction to events; runs after the connection has finished its input.</summary>
    public Action<BareEndpoint, ConnectionEvent>? OnEvent { get; set; }

    /// <summary>The run's virtual time.</summary>
    public TimeSpan Now => _run.Clock;

    private Connection NewConnection()
    {
        var tuple = new FourTuple(Address, Port, Peer.Address, Peer.Port);
        Connection = new Connection(tuple, Options, IsnGenerator, this);
        _received.SetLength(0);
        SawEndOfStream = false;
        return Connection;
    }

    /// <summary>Active OPEN to the peer.</summary>
    public override void Connect() => ConnectActive();

    /// <summary>Active OPEN; the connection's answer.</summary>
    public TcpError ConnectActive()
    {
        Call("connect (active OPEN)");
        return NewConnection().OpenActive(Now);
    }

    /// <summary>Passive OPEN: waits for the peer's SYN.</summary>
    public override void Listen()
    {
        Call("listen (passive OPEN)");
        NewConnection().OpenPassive();
    }

    /// <summary>SEND: queues <paramref name="data"/>; returns the bytes accepted.</summary>
    public int Send(ReadOnlySpan<byte> data)
    {
        Call($"send {data.Length} bytes");
        if (Connection is null) return 0;
        int n = Connection.Send(data, Now, out var error);
        if (error != TcpError.None) LastError = error;
        return n;
    }

    /// <summary>SEND of <paramref name="length"/> bytes of <paramref name="fill"/>; returns the bytes accepted.</summary>
    public override int Send(int length, byte fill = (byte)'x') => Send(Pattern(length, fill));

    /// <summary>Shuts down sending (a FIN), keeping the receiving side open.</summary>
    public override TcpError Shutdown()
    {
        Call("shutdown (half-close)");
        return Connection?.Shutdown(Now) ?? TcpError.ConnectionDoesNotExist;
    }

    /// <summary>CLOSE: a FIN after the queued data.</summary>
    public override TcpError Close()
    {
        Call("close");
        return Connection?.Close(Now) ?? TcpError.ConnectionDoesNotExist;
    }

    /// <summary>ABORT: a RST, and the connection is gone.</summary>
    public override void Abort()
    {
        Call("abort");
        Connection?.Abort(Now);
    }

    /// <summary>Read whatever is queued. Returns the count.</summary>
    public int Read()
    {
        if (Connection is null) return 0;
        var buf = new byte[64 * 1024];
        int total = 0;
        while (true)
        {
            int n = Connection.Receive(buf, Now, out var error);
            if (n > 0)
            {
                _received.Write(buf, 0, n);
                total += n;
                continue;
            }
            if (error == TcpError.None) SawEndOfStream = true;
            break;
        }
        return total;
    }

    /// <summary>The host forgets its connection without a word: a crash, or an old incarnation long gone.</summary>
    public void Forget()
    {
        Call("forget the connection (no TCB)");
        Connection = null;
    }

    private void Call(string text) => _run.Record(TraceKind.UserCall, Name, text: text);

    // ------------------------------------------------------------------ on the network

    IReadOnlyList<IpAddr> INetworkNode.Addresses => _addresses;
    /// <summary>The link the endpoint sends on.</summary>
    public IPacketSink? Output { get; set; }
    TimeSpan? INetworkNode.NextWakeup => Connection?.NextDeadline is TimeSpan d && d != TimeSpan.MaxValue ? d : null;

    void INetworkNode.Advance(TimeSpan now)
    {
        if (Connection is { } c && c.NextDeadline <= now) c.OnTimer(now);
    }

    void INetworkNode.Receive(ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (!TcpPacket.TryParse(packet, out var ip, out var tcp, out var error))
        {
            _run.Record(TraceKind.Rejected, Name, text: error.Describe());
            return;
        }
        var payload = TcpPacket.Payload(packet, ip, tcp);
        var info = ScenarioRun.Describe(Peer.Name, packet.ToArray());
        if (Connection is null || tcp.DestinationPort != Port)
        {
            // No TCB: RFC 9293 3.10.7.1, the CLOSED state.
            _run.Record(TraceKind.Delivered, Name, info, text: "no connection");
            if (Connection.ResetForUnknownSegment(in tcp, payload.Length, out var rst)) SendPacket(in rst, default, TcpOptionLayout.Established);
            return;
        }
        _run.Record(TraceKind.Delivered, Name, info);
        Connection.OnSegment(in tcp, payload, now);
    }

    void IConnectionHost.Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout) =>
        SendPacket(in header, payload, layout);

    private void SendPacket(in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        var buf = new byte[TcpPacket.MaxLength(payload.Length)];
        int len = TcpPacket.Write(buf, Address, Peer.Address, in header, layout, payload);
        Output?.Transmit(this, buf.AsSpan(0, len));
    }

    void IConnectionHost.StateChanged(Connection connection, TcpState from, TcpState to, string cause) =>
        _run.Record(TraceKind.StateChanged, Name, from: from, to: to, text: cause);

    void IConnectionHost.Notify(Connection connection, ConnectionEvent e, TcpError error)
    {
        Events.Add((e, error));
        if (error != TcpError.None) LastError = error;
        _run.Record(TraceKind.Event, Name, text: error == TcpError.None ? e.ToString() : $"{e}: {error.Describe()}");
        if (AutoRead && e is ConnectionEvent.DataReadable or ConnectionEvent.PeerClosed) Read();
        if (e == ConnectionEvent.PeerClosed && CloseOnEndOfStream && connection.State == TcpState.CloseWait)
        {
            Read();
            if (SawEndOfStream) Close();
        }
        OnEvent?.Invoke(this, e);
    }

    void IConnectionHost.TimerFired(Connection connection, TcpTimer timer) =>
        _run.Record(TraceKind.TimerFired, Name, text: timer.ToString());
}
