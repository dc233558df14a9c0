using SocketError = System.Net.Sockets.SocketError;
using SocketException = System.Net.Sockets.SocketException;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>
/// The scenarios on the real stack: two <see cref="NetworkStack"/>s joined by a <see cref="MemoryLink"/>,
/// applications on the socket API, everything on one virtual clock. It records the same trace as the
/// harness, so the same ladder, capture and tests apply.
/// </summary>
public sealed class StackRun : IDemoRun, IStackObserver
{
    private readonly SimulatedNetwork _net;
    private readonly MemoryLink _link;
    private readonly StackEndpoint _client;
    private readonly StackEndpoint _server;
    private readonly LinkView _linkView;

    public StackRun(LinkOptions link, ConnectionOptions? clientOptions = null, ConnectionOptions? serverOptions = null,
        IIsnGenerator? clientIsn = null, IIsnGenerator? serverIsn = null, int seed = 1)
    {
        _net = new SimulatedNetwork(seed);
        var clientStack = _net.AddHost(new StackOptions
        {
            Name = "client",
            Addresses = [IpAddr.Parse("192.0.2.1")],
            Connection = clientOptions ?? ConnectionOptions.Default,
            IsnGenerator = clientIsn,
        });
        var serverStack = _net.AddHost(new StackOptions
        {
            Name = "server",
            Addresses = [IpAddr.Parse("192.0.2.2")],
            Connection = serverOptions ?? ConnectionOptions.Default,
            IsnGenerator = serverIsn,
        });
        _link = _net.Connect(link, clientStack, serverStack);
        _client = new StackEndpoint(this, clientStack, 40000);
        _server = new StackEndpoint(this, serverStack, 80);
        _client.Peer = _server;
        _server.Peer = _client;
        _linkView = new LinkView(this);
        clientStack.AddObserver(this);
        serverStack.AddObserver(this);
        _link.Dropped = (from, packet, why) => Record(TraceKind.Dropped, NameOf(from), Describe(from, packet), text: why);
    }

    /// <summary>The seed scenarios' setup: fixed ISNs 123456 and 234567, the note's options, 10 ms latency.</summary>
    public static StackRun ForScenario(Scenario scenario, LinkOptions? link = null) =>
        new(link ?? new LinkOptions { Latency = TimeSpan.FromMilliseconds(10) },
            scenario.ClientOptions ?? Scenarios.SeedOptions, Scenarios.SeedOptions,
            new FixedIsnGenerator(Scenarios.ClientIsn), new FixedIsnGenerator(Scenarios.ServerIsn), link?.Seed ?? 1);

    public SimulatedNetwork Network => _net;
    public MemoryLink MemoryLink => _link;
    public NetworkStack ClientStack => _client.Stack;
    public NetworkStack ServerStack => _server.Stack;
    public IDemoEndpoint Client => _client;
    public IDemoEndpoint Server => _server;
    public IDemoLink Link => _linkView;
    public Trace Trace { get; } = new();
    public TimeSpan Clock => _net.Now;
    public SocketError ClientError => _client.Error;
    public SocketError ServerError => _server.Error;
    public long ClientReceived => _client.Received;
    public long ServerReceived => _server.Received;

    public void RunFor(TimeSpan duration) => _net.RunFor(duration);

    public bool RunUntil(Func<bool> condition, TimeSpan? limit = null) => _net.RunUntil(condition, limit ?? TimeSpan.FromHours(1));

    public void RunUntilIdle(TimeSpan? limit = null) => _net.RunUntil(() => false, limit ?? TimeSpan.FromHours(1));

    public void Note(string who, string text) => Record(TraceKind.UserCall, who, text: text);

    internal void Record(TraceKind kind, string endpoint, SegmentInfo? segment = null, TcpState from = default, TcpState to = default, string text = "") =>
        Trace.Add(new TraceEntry(Trace.NextIndex, _net.Now, kind, endpoint, segment, from, to, text, _client.State, _server.State));

    private string NameOf(NetworkStack stack) => ReferenceEquals(stack, _client.Stack) ? "client" : "server";

    private SegmentInfo Describe(NetworkStack from, ReadOnlySpan<byte> packet)
    {
        var name = NameOf(from);
        return Simulation.Describe(name, name == "client" ? "server" : "client", packet.ToArray());
    }

    // ---- what the stacks report

    void IStackObserver.PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) =>
        Record(TraceKind.Sent, NameOf(stack), Describe(stack, packet));

    void IStackObserver.PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        var to = NameOf(stack);
        var from = to == "client" ? _server.Stack : _client.Stack;
        Record(TraceKind.Delivered, to, Describe(from, packet));
    }

    void IStackObserver.PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now)
    {
        if (reason != DropReason.NoConnection) Record(TraceKind.Rejected, NameOf(stack), text: reason.ToString());
    }

    void IStackObserver.StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
    {
        var ep = ReferenceEquals(stack, _client.Stack) ? _client : _server;
        // A connection spawned by a listener starts as CLOSED -> LISTEN; the listener was LISTEN already.
        if (from == TcpState.Closed && to == TcpState.Listen) return;
        var before = ep.State;
        ep.State = to;
        Record(TraceKind.StateChanged, ep.Name, from: before, to: to, text: cause);
    }

    void IStackObserver.TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now) =>
        Record(TraceKind.TimerFired, NameOf(stack), text: timer.ToString());

    private sealed class LinkView(StackRun run) : IDemoLink
    {
        public bool Up
        {
            get => run._link.Up;
            set => run._link.Up = value;
        }

        public void Drop(Func<SegmentInfo, bool> match, int times = 1) =>
            run._link.Drop((from, p) => match(run.Describe(from, p)), times);

        public void Delay(Func<SegmentInfo, bool> match, TimeSpan by, int times = 1) =>
            run._link.Delay((from, p) => match(run.Describe(from, p)), by, times);

        public void Inject(IDemoEndpoint from, IDemoEndpoint to, byte[] packet)
        {
            var stack = ((StackEndpoint)from).Stack;
            run.Record(TraceKind.Sent, from.Name, run.Describe(stack, packet)); // as the harness shows a forged segment
            run._net.Invoke(() => run._link.Inject(stack, packet));
        }
    }

    /// <summary>An application on one stack: it reads whatever arrives, and does what the scenario says.</summary>
    private sealed class StackEndpoint(StackRun run, NetworkStack stack, ushort port) : IDemoEndpoint
    {
        private TcpConnection? _conn;
        private TcpListener? _listener;

        public NetworkStack Stack { get; } = stack;
        public StackEndpoint Peer { get; set; } = null!;
        public string Name => Stack.Name;
        public IpAddr Address => Stack.PrimaryAddress;
        public ushort Port { get; } = port;
        public TcpState State { get; set; } = TcpState.Closed;
        public bool CloseOnEndOfStream { get; set; }
        public long Received { get; private set; }
        public SocketError Error { get; private set; }

        private void Call(string text) => run.Record(TraceKind.UserCall, Name, text: text);

        public void Listen()
        {
            Call("listen (passive OPEN)");
            var before = State;
            State = TcpState.Listen;
            run.Record(TraceKind.StateChanged, Name, from: before, to: TcpState.Listen, text: "user OPEN (passive)");
            run._net.Invoke(() =>
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

        public void Connect()
        {
            Call("connect (active OPEN)");
            run._net.Invoke(() => _ = ConnectThenRead());
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

        public int Send(int length, byte fill = (byte)'x')
        {
            Call($"send {length} bytes");
            var data = new byte[length];
            for (int i = 0; i < length; i++) data[i] = (byte)(fill + (i % 26));
            run._net.Invoke(() => _ = Write(data));
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

        public TcpError Shutdown()
        {
            Call("shutdown (half-close)");
            run._net.Invoke(() => _conn?.ShutdownSend());
            return TcpError.None;
        }

        public TcpError Close()
        {
            Call("close");
            run._net.Invoke(() => _ = _conn?.CloseAsync());
            return TcpError.None;
        }

        public void Abort()
        {
            Call("abort");
            run._net.Invoke(() => _conn?.Abort());
        }
    }
}
