using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>
/// One host of the simulation with (at most) one connection, and the application on top of it.
/// It is the connection's host: segments become real IP packets with checksums on the link.
/// </summary>
public sealed class Endpoint : IConnectionHost, IDemoEndpoint
{
    private readonly Simulation _sim;
    private readonly MemoryStream _received = new();

    internal Endpoint(Simulation sim, string name, IpAddr address, ushort port, ConnectionOptions options, IIsnGenerator isn)
    {
        _sim = sim;
        Name = name;
        Address = address;
        Port = port;
        Options = options;
        IsnGenerator = isn;
    }

    public string Name { get; }
    public IpAddr Address { get; }
    public ushort Port { get; set; }
    public ConnectionOptions Options { get; set; }
    public IIsnGenerator IsnGenerator { get; set; }
    public Connection? Connection { get; private set; }
    public Endpoint Peer { get; internal set; } = null!;
    public TcpState State => Connection?.State ?? TcpState.Closed;

    /// <summary>Bytes the application has read so far.</summary>
    public byte[] ReceivedBytes => _received.ToArray();
    public long ReceivedCount => _received.Length;
    public bool SawEndOfStream { get; private set; }
    public List<(ConnectionEvent Event, TcpError Error)> Events { get; } = [];
    public TcpError LastError { get; private set; }

    /// <summary>Read data as soon as it is readable (the application is always reading).</summary>
    public bool AutoRead { get; set; } = true;

    /// <summary>The application's reaction to events; runs after the connection has finished its input.</summary>
    public Action<Endpoint, ConnectionEvent>? OnEvent { get; set; }

    /// <summary>Application behaviour: close as soon as end of stream is read.</summary>
    public bool CloseOnEndOfStream { get; set; }

    public TimeSpan Now => _sim.Clock;

    private Connection NewConnection()
    {
        var tuple = new FourTuple(Address, Port, Peer.Address, Peer.Port);
        Connection = new Connection(tuple, Options, IsnGenerator, this);
        _received.SetLength(0);
        SawEndOfStream = false;
        return Connection;
    }

    public TcpError Connect()
    {
        Call("connect (active OPEN)");
        return NewConnection().OpenActive(Now);
    }

    void IDemoEndpoint.Connect() => Connect();

    public TcpError Listen()
    {
        Call("listen (passive OPEN)");
        var c = NewConnection();
        return c.OpenPassive();
    }

    void IDemoEndpoint.Listen() => Listen();

    public int Send(ReadOnlySpan<byte> data)
    {
        Call($"send {data.Length} bytes");
        if (Connection is null) return 0;
        int n = Connection.Send(data, Now, out var error);
        if (error != TcpError.None) LastError = error;
        return n;
    }

    public int Send(int length, byte fill = (byte)'x')
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(fill + (i % 26));
        return Send(data);
    }

    public TcpError Shutdown()
    {
        Call("shutdown (half-close)");
        return Connection?.Shutdown(Now) ?? TcpError.ConnectionDoesNotExist;
    }

    public TcpError Close()
    {
        Call("close");
        return Connection?.Close(Now) ?? TcpError.ConnectionDoesNotExist;
    }

    public void Abort()
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

    private void Call(string text) => _sim.Record(TraceKind.UserCall, Name, text: text);

    internal void Deliver(byte[] packet)
    {
        if (!TcpPacket.TryParse(packet, out var ip, out var tcp, out var error))
        {
            _sim.Record(TraceKind.Rejected, Name, text: error.Describe());
            return;
        }
        var payload = TcpPacket.Payload(packet, ip, tcp);
        var info = Simulation.Describe(Peer.Name, Name, packet);
        if (Connection is null || tcp.DestinationPort != Port)
        {
            // No TCB: RFC 9293 3.10.7.1, the CLOSED state.
            _sim.Record(TraceKind.Delivered, Name, info, text: "no connection");
            if (Connection.ResetForUnknownSegment(in tcp, payload.Length, out var rst))
            {
                SendPacket(in rst, default, TcpOptionLayout.Established);
            }
            return;
        }
        _sim.Record(TraceKind.Delivered, Name, info);
        Connection.OnSegment(in tcp, payload, Now);
    }

    internal void FireTimers()
    {
        Connection?.OnTimer(Now);
    }

    internal TimeSpan NextDeadline => Connection?.NextDeadline ?? TimeSpan.MaxValue;

    void IConnectionHost.Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout) =>
        SendPacket(in header, payload, layout);

    private void SendPacket(in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout)
    {
        var buf = new byte[TcpPacket.MaxLength(payload.Length)];
        int len = TcpPacket.Write(buf, Address, Peer.Address, in header, layout, payload);
        _sim.Link.Send(this, Peer, buf.AsSpan(0, len).ToArray());
    }

    void IConnectionHost.StateChanged(Connection connection, TcpState from, TcpState to, string cause) =>
        _sim.Record(TraceKind.StateChanged, Name, from: from, to: to, text: cause);

    void IConnectionHost.Notify(Connection connection, ConnectionEvent e, TcpError error)
    {
        Events.Add((e, error));
        if (error != TcpError.None) LastError = error;
        _sim.Record(TraceKind.Event, Name, text: error == TcpError.None ? e.ToString() : $"{e}: {error.Describe()}");
        if (AutoRead && e is ConnectionEvent.DataReadable or ConnectionEvent.PeerClosed) Read();
        if (e == ConnectionEvent.PeerClosed && CloseOnEndOfStream && connection.State == TcpState.CloseWait)
        {
            Read();
            if (SawEndOfStream) Close();
        }
        OnEvent?.Invoke(this, e);
    }

    void IConnectionHost.TimerFired(Connection connection, TcpTimer timer) =>
        _sim.Record(TraceKind.TimerFired, Name, text: timer.ToString());
}
