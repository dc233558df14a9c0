using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;
using SocketError = System.Net.Sockets.SocketError;
using SocketException = System.Net.Sockets.SocketException;

namespace Synack.Scenarios;

/// <summary>
/// The scenarios on the real stack: two <see cref="NetworkStack"/>s on the simulated network,
/// applications on the socket API. It records the same trace as <see cref="BareRun"/>, so the same
/// ladder, capture and tests apply.
/// </summary>
public sealed class StackRun : ScenarioRun, IStackObserver
{
    private readonly StackEndpoint _client;
    private readonly StackEndpoint _server;

    /// <summary>A client and a server stack on one simulated link, with the given profiles, ISN sources and network seed.</summary>
    public StackRun(LinkConditions link, ConnectionOptions? clientOptions = null, ConnectionOptions? serverOptions = null,
        IIsnGenerator? clientIsn = null, IIsnGenerator? serverIsn = null, int seed = 1)
        : base(new SimulatedNetwork(seed), link)
    {
        var clientStack = Network.AddHost(new StackOptions
        {
            Name = "client",
            Addresses = [IpAddr.Parse("192.0.2.1")],
            Connection = clientOptions ?? ConnectionOptions.Default,
            IsnGenerator = clientIsn,
        });
        var serverStack = Network.AddHost(new StackOptions
        {
            Name = "server",
            Addresses = [IpAddr.Parse("192.0.2.2")],
            Connection = serverOptions ?? ConnectionOptions.Default,
            IsnGenerator = serverIsn,
        });
        MemoryLink.Attach(clientStack);
        MemoryLink.Attach(serverStack);
        _client = new StackEndpoint(this, clientStack, 40000);
        _server = new StackEndpoint(this, serverStack, 80);
        _client.Peer = _server;
        _server.Peer = _client;
        clientStack.AddObserver(this);
        serverStack.AddObserver(this);
    }

    /// <summary>The scenarios' setup (docs/scenarios.md): fixed ISNs 123456 and 234567, their classic SYN options, 10 ms latency.</summary>
    public static StackRun ForScenario(Scenario scenario, LinkConditions? link = null) =>
        new(link ?? new LinkConditions { Latency = TimeSpan.FromMilliseconds(10) },
            scenario.ClientOptions ?? ScenarioCatalog.NoteOptions, ScenarioCatalog.NoteOptions,
            new FixedIsnGenerator(ScenarioCatalog.ClientIsn), new FixedIsnGenerator(ScenarioCatalog.ServerIsn), link?.Seed ?? 1);

    /// <summary>The client's stack.</summary>
    public NetworkStack ClientStack => _client.Stack;
    /// <summary>The server's stack.</summary>
    public NetworkStack ServerStack => _server.Stack;
    /// <summary>The client endpoint (socket API).</summary>
    public override ScenarioEndpoint Client => _client;
    /// <summary>The server endpoint (socket API).</summary>
    public override ScenarioEndpoint Server => _server;
    /// <summary>The error the client's socket reported, if any.</summary>
    public SocketError ClientError => _client.Error;
    /// <summary>The error the server's socket reported, if any.</summary>
    public SocketError ServerError => _server.Error;
    /// <summary>Bytes the client has read.</summary>
    public long ClientReceived => _client.Received;
    /// <summary>Bytes the server has read.</summary>
    public long ServerReceived => _server.Received;

    // ---- what the stacks report (what they send, the link reports)

    void IStackObserver.PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        var from = stack.Name == "client" ? "server" : "client";
        Record(TraceKind.Delivered, stack.Name, Describe(from, packet.ToArray()));
    }

    void IStackObserver.PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now)
    {
        if (reason != DropReason.NoConnection) Record(TraceKind.Rejected, stack.Name, text: reason.ToString());
    }

    void IStackObserver.StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
    {
        var ep = ReferenceEquals(stack, _client.Stack) ? _client : _server;
        // A connection spawned by a listener starts as CLOSED -> LISTEN; the listener was LISTEN already.
        if (from == TcpState.Closed && to == TcpState.Listen) return;
        var before = ep.CurrentState;
        ep.CurrentState = to;
        Record(TraceKind.StateChanged, ep.Name, from: before, to: to, text: cause);
    }

    void IStackObserver.TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now) =>
        Record(TraceKind.TimerFired, stack.Name, text: timer.ToString());

    /// <summary>An application on one stack: it reads whatever arrives, and does what the scenario says.</summary>
    private sealed class StackEndpoint(StackRun run, NetworkStack stack, ushort port) : ScenarioEndpoint
    {
        private TcpConnection? _conn;
        private TcpListener? _listener;

        public NetworkStack Stack { get; } = stack;
        public StackEndpoint Peer { get; set; } = null!;
        public override string Name => Stack.Name;
        public override IpAddr Address => Stack.PrimaryAddress;
        public override ushort Port { get; } = port;
        /// <summary>The state the trace shows: the listener's, then its connection's.</summary>
        public TcpState CurrentState { get; set; } = TcpState.Closed;
        public override TcpState State => CurrentState;
        public long Received { get; private set; }
        public SocketError Error { get; private set; }

        private void Call(string text) => run.Record(TraceKind.UserCall, Name, text: text);

        public override void Listen()
        {
            Call("listen (passive OPEN)");
            var before = CurrentState;
            CurrentState = TcpState.Listen;
            run.Record(TraceKind.StateChanged, Name, from: before, to: TcpState.Listen, text: "user OPEN (passive)");
            run.Network.Invoke(() =>
            {
                _listener = TcpListener.Start(Stack, Port, backlog: 16);
                _ = AcceptLoop();
            });
        }

        private async Task AcceptLoop()
        {
            var c = await _listener!.AcceptAsync();
            _conn = c;
            await ReadLoop(c);
        }

        public override void Connect()
        {
            Call("connect (active OPEN)");
            run.Network.Invoke(() => _ = ConnectThenRead());
        }

        private async Task ConnectThenRead()
        {
            try
            {
                _conn = await TcpConnection.ConnectAsync(Stack, Peer.Address, Peer.Port, localPort: Port);
            }
            catch (SocketException ex)
            {
                Error = ex.SocketErrorCode;
                return;
            }
            await ReadLoop(_conn);
        }

        private async Task ReadLoop(TcpConnection c)
        {
            var buf = new byte[64 * 1024];
            try
            {
                int n;
                while ((n = await c.ReadAsync(buf)) > 0) Received += n;
                if (CloseOnEndOfStream && c.State == TcpState.CloseWait) Close();
            }
            catch (SocketException ex)
            {
                Error = ex.SocketErrorCode;
            }
        }

        public override int Send(int length, byte fill = (byte)'x')
        {
            Call($"send {length} bytes");
            var data = Pattern(length, fill);
            run.Network.Invoke(() => _ = Write(data));
            return length;
        }

        private async Task Write(byte[] data)
        {
            try
            {
                await _conn!.WriteAsync(data);
            }
            catch (SocketException ex)
            {
                Error = ex.SocketErrorCode;
            }
        }

        public override TcpError Shutdown()
        {
            Call("shutdown (half-close)");
            run.Network.Invoke(() => _conn?.ShutdownSend());
            return TcpError.None;
        }

        public override TcpError Close()
        {
            Call("close");
            run.Network.Invoke(() => _ = _conn?.CloseAsync());
            return TcpError.None;
        }

        public override void Abort()
        {
            Call("abort");
            run.Network.Invoke(() => _conn?.Abort());
        }
    }
}
