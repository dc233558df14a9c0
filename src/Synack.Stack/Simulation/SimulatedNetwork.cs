using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// Stacks and links on one virtual clock, run deterministically on the calling thread. Application
/// code written with async/await runs here too: its continuations are posted to this loop (a
/// SynchronizationContext), and time moves only when nothing is ready to run. The same seed gives
/// the same run, to the tick.
/// </summary>
public sealed class SimulatedNetwork
{
    private readonly PriorityQueue<Action, (TimeSpan At, long Order)> _events = new();
    private readonly Queue<(SendOrPostCallback Callback, object? State)> _ready = new();
    private readonly List<INetworkNode> _nodes = [];
    private readonly LoopContext _context;
    private long _order;
    private int _hostIndex;

    public SimulatedNetwork(int seed = 1)
    {
        Seed = seed;
        _context = new LoopContext(this);
        TimeProvider = new VirtualTimeProvider(this);
    }

    /// <summary>Virtual time for application code: delays and timers on it fire on this loop.</summary>
    public VirtualTimeProvider TimeProvider { get; }

    public int Seed { get; }
    public TimeSpan Now { get; private set; }
    /// <summary>Every host on the network: stacks, and any other node added with <see cref="AddNode"/>.</summary>
    public IReadOnlyList<INetworkNode> Nodes => _nodes;

    /// <summary>A host with the given addresses; its secrets derive from the seed, so runs repeat.</summary>
    public NetworkStack AddHost(string name, IReadOnlyList<IpAddr> addresses, ConnectionOptions? connection = null)
    {
        var secret = new byte[32];
        new Random(HashCode.Combine(Seed, _hostIndex++)).NextBytes(secret);
        var stack = new NetworkStack(new StackOptions
        {
            Name = name,
            Addresses = addresses,
            Connection = connection ?? ConnectionOptions.Default,
            Secret = secret,
        });
        stack.Loop = _context;
        _nodes.Add(stack);
        return stack;
    }

    public NetworkStack AddHost(string name, string address, ConnectionOptions? connection = null) =>
        AddHost(name, [IpAddr.Parse(address)], connection);

    /// <summary>A host set up in full; a missing secret is derived from the seed.</summary>
    public NetworkStack AddHost(StackOptions options)
    {
        var secret = new byte[32];
        new Random(HashCode.Combine(Seed, _hostIndex++)).NextBytes(secret);
        var stack = new NetworkStack(options.Secret is null ? options with { Secret = secret } : options) { Loop = _context };
        _nodes.Add(stack);
        return stack;
    }

    /// <summary>Adds a host of another kind (a bare connection's host, a packet generator) to the loop.</summary>
    public T AddNode<T>(T node) where T : INetworkNode
    {
        _nodes.Add(node);
        return node;
    }

    /// <summary>
    /// Runs <paramref name="action"/> now, as code on the loop: tasks it starts resume on the loop,
    /// not on the thread pool. Use it to act on the network from outside a run.
    /// </summary>
    public void Invoke(Action action)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        try
        {
            action();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    public MemoryLink Connect(LinkOptions options, params INetworkNode[] nodes)
    {
        var link = new MemoryLink(this, options);
        foreach (var n in nodes) link.Attach(n);
        return link;
    }

    public void Schedule(TimeSpan at, Action action) => _events.Enqueue(action, (at < Now ? Now : at, _order++));

    /// <summary>Runs until <paramref name="condition"/> holds; false if <paramref name="limit"/> of virtual time passes first.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var end = Now + limit;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        try
        {
            while (true)
            {
                while (_ready.TryDequeue(out var work)) work.Callback(work.State);
                if (condition()) return true;
                if (!Step(end)) return condition();
            }
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    public void RunFor(TimeSpan duration)
    {
        var end = Now + duration;
        RunUntil(() => false, duration);
        if (Now < end) Now = end;
        foreach (var n in _nodes) n.Advance(Now);
    }

    /// <summary>Runs <paramref name="main"/> (async application code) on the loop until it completes.</summary>
    public T Run<T>(Func<Task<T>> main, TimeSpan limit)
    {
        Task<T>? task = null;
        Post(_ => task = main(), null);
        if (!RunUntil(() => task is { IsCompleted: true }, limit))
        {
            throw new TimeoutException($"the simulated run did not finish within {limit} of virtual time (now {Now})");
        }
        return task!.GetAwaiter().GetResult();
    }

    public void Run(Func<Task> main, TimeSpan limit) => Run(async () =>
    {
        await main();
        return true;
    }, limit);

    private bool Step(TimeSpan end)
    {
        var next = TimeSpan.MaxValue;
        if (_events.TryPeek(out _, out var key)) next = key.At;
        foreach (var n in _nodes)
        {
            if (n.NextWakeup is TimeSpan w && w < next) next = w;
        }
        if (next == TimeSpan.MaxValue || next > end) return false;
        if (next > Now) Now = next;
        foreach (var n in _nodes)
        {
            if (n.NextWakeup is TimeSpan w && w <= Now) n.Advance(Now);
        }
        if (_events.TryPeek(out _, out key) && key.At <= Now) _events.Dequeue()();
        return true;
    }

    private void Post(SendOrPostCallback callback, object? state) => _ready.Enqueue((callback, state));

    /// <summary>The loop as a SynchronizationContext: awaits resume here, in order.</summary>
    private sealed class LoopContext(SimulatedNetwork net) : SynchronizationContext, IStackLoop
    {
        public override void Post(SendOrPostCallback d, object? state) => net.Post(d, state);
        public override void Send(SendOrPostCallback d, object? state) => d(state);
        public override SynchronizationContext CreateCopy() => this;
        public TimeSpan Now => net.Now;
        public TimeProvider Time => net.TimeProvider;
        public void Invoke(Action action) => action();
    }
}
