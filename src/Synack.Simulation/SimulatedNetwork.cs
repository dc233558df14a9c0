using System.Collections.Concurrent;
using System.IO.Pipelines;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>
/// Stacks and links on one virtual clock, run deterministically on the calling thread. Application
/// code written with async/await runs here too: its continuations are posted to this loop (a
/// SynchronizationContext), and time moves only when nothing is ready to run. The same seed gives
/// the same run, to the tick.
/// <para>
/// Code that lives on the thread pool (Kestrel, SocketsHttpHandler) can share the loop when
/// <see cref="SettleThreadPool"/> is on. The loop then waits, before it takes anything from another
/// thread and before it moves time, until the thread pool has settled (nothing queued, no worker
/// busy but those waiting for the loop); of the calls waiting it runs the one first in a fixed order
/// (by host and connection), never by which thread came first. So the run repeats by seed although
/// many threads take part, and minutes of virtual time pass in the wall time the work takes.
/// </para>
/// </summary>
public sealed class SimulatedNetwork
{
    private readonly PriorityQueue<Action, (TimeSpan At, long Order)> _events = new();
    private readonly ConcurrentQueue<(SendOrPostCallback Callback, object? State)> _ready = new();
    // Work handed in by other threads, run one item at a time at settle points, lowest order first:
    // which items are waiting there follows from the run, the order they arrived in does not.
    private readonly List<ForeignWork> _foreign = [];
    private long _foreignArrivals;
    private int _blockedPoolCallers;
    private readonly ManualResetEventSlim _wake = new();
    private readonly Lock _gate = new();
    private readonly List<INetworkNode> _nodes = [];
    private readonly LoopContext _context;
    private volatile Thread? _loopThread;
    private int _othersBusy;
    private long _order;
    private int _hostIndex;
    private int _linkIndex;
    private bool _nothingPending; // the last RunUntil stopped because no event was left, not at its limit
    private bool _runningTask;    // inside Run: a task not yet done while nothing is pending is waiting on something
    // Calls that reached the stack from another thread while the loop ran without settling the pool:
    // application code left the loop. The first one's thread and stack say where.
    private int _escapes;
    private string? _firstEscape;

    /// <summary>A network whose every random choice (ISNs, ports, loss, reordering) comes from <paramref name="seed"/>: the same seed gives the same run, in any process.</summary>
    public SimulatedNetwork(int seed = 1)
    {
        Seed = seed;
        _context = new LoopContext(this);
        TimeProvider = new VirtualTimeProvider(this);
    }

    /// <summary>Virtual time for application code: delays and timers on it fire on this loop.</summary>
    public VirtualTimeProvider TimeProvider { get; }

    /// <summary>The seed every random draw in the run derives from.</summary>
    public int Seed { get; }
    /// <summary>Virtual time since the network was made; it moves only when nothing is left to do before the next event.</summary>
    public TimeSpan Now { get; private set; }
    /// <summary>Every host on the network: stacks, and any other node added with <see cref="AddNode"/>.</summary>
    public IReadOnlyList<INetworkNode> Nodes => _nodes;

    /// <summary>
    /// Lets thread-pool code (Kestrel, HttpClient's handler) use the stacks: before virtual time
    /// moves, the loop waits until the thread pool is idle — no queued work item, no worker busy —
    /// so everything the last event set off has run. Off, the loop never waits for other threads.
    /// </summary>
    public bool SettleThreadPool { get; init; }

    /// <summary>
    /// The longest the loop waits for the thread pool to settle before it moves time anyway (a
    /// worker blocked on something that needs virtual time to pass would otherwise stop the run).
    /// </summary>
    public TimeSpan SettleTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Times the loop moved time without the thread pool having settled (see <see cref="SettleTimeout"/>).</summary>
    public long UnsettledSteps { get; private set; }

    /// <summary>A host with the given addresses; its secrets derive from the seed, so runs repeat.</summary>
    public NetworkStack AddHost(string name, IReadOnlyList<IpAddr> addresses, ConnectionOptions? connection = null) =>
        AddHost(new StackOptions
        {
            Name = name,
            Addresses = addresses,
            Connection = connection ?? ConnectionOptions.Default,
        });

    /// <summary>Adds a stack with the address <paramref name="address"/> ("192.0.2.1", "2001:db8::1") and, optionally, its own connection profile.</summary>
    public NetworkStack AddHost(string name, string address, ConnectionOptions? connection = null) =>
        AddHost(name, [IpAddr.Parse(address)], connection);

    /// <summary>Adds a stack with the address <paramref name="address"/> and, optionally, its own connection profile.</summary>
    public NetworkStack AddHost(string name, System.Net.IPAddress address, ConnectionOptions? connection = null) =>
        AddHost(name, [IpAddr.FromIPAddress(address)], connection);

    /// <summary>A host set up in full; a missing secret is derived from the seed.</summary>
    public NetworkStack AddHost(StackOptions options)
    {
        var secret = new byte[32];
        new Random(SeedDerivation.Derive(Seed, _hostIndex++)).NextBytes(secret);
        var stack = new NetworkStack(options.Secret is null ? options with { Secret = secret } : options);
        stack.Loop = new HostLoop(this, _nodes.Count);
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
            RunOnLoop(action);
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Joins <paramref name="nodes"/> by one link with <paramref name="options"/> (its seed derived from the network's unless set).</summary>
    public MemoryLink Connect(LinkConditions options, params INetworkNode[] nodes)
    {
        // A link's draws come from the network's seed unless the options fix one: one seed, one run.
        var link = new MemoryLink(this, options, options.Seed ?? SeedDerivation.Derive(Seed, _linkIndex++, 1));
        foreach (var n in nodes) link.Attach(n);
        return link;
    }

    /// <summary>Runs <paramref name="action"/> on the loop at virtual time <paramref name="at"/> (now, if that has passed).</summary>
    public void Schedule(TimeSpan at, Action action) => _events.Enqueue(action, (at < Now ? Now : at, _order++));

    /// <summary>Runs until <paramref name="condition"/> holds; false if <paramref name="limit"/> of virtual time passes first.</summary>
    public bool RunUntil(Func<bool> condition, TimeSpan limit)
    {
        var end = Now + limit;
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(_context);
        var current = Thread.CurrentThread;
        if (_loopThread is { } other && other != current)
            throw new InvalidOperationException($"the simulation is already running on thread '{other.Name ?? other.ManagedThreadId.ToString()}'");
        bool outermost = _loopThread is null;
        _loopThread = current;
        _nothingPending = false;
        if (outermost && SettleThreadPool) _othersBusy = MeasureOthersBusy();
        try
        {
            while (true)
            {
                DrainReady();
                if (condition()) return true;
                if (SettleThreadPool)
                {
                    Settle();
                    if (TakeForeign() is { } work)
                    {
                        work.Run(this);
                        continue;
                    }
                }
                if (Step(end)) continue;
                // Nothing is left on the network. Code that left the loop may still be on its way back
                // (a continuation on the thread pool): take it rather than stop short — noted as an escape
                // unless the pool is settled, where it is the pool's work arriving late: a worker that the
                // start of the run counted as another test's (they share the pool) can be ours by now.
                if (_nothingPending && _runningTask && AwaitStragglers()) continue;
                return condition();
            }
        }
        finally
        {
            if (outermost) StopLooping();
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Runs everything due in the next <paramref name="duration"/> of virtual time, then stops with the clock at its end.</summary>
    public void RunFor(TimeSpan duration)
    {
        var end = Now + duration;
        RunUntil(() => false, duration);
        if (Now < end) Now = end;
        foreach (var n in _nodes) n.Advance(Now);
    }

    /// <summary>
    /// Runs <paramref name="main"/> (async application code) on the loop until it completes; at most
    /// <paramref name="limit"/> of virtual time. A run that cannot finish says why: the limit was
    /// reached, or nothing is left to happen on the network while the code waits on something outside
    /// it (a wall-clock timer, the thread pool) — then it fails at once, naming what left the loop.
    /// </summary>
    public T Run<T>(Func<Task<T>> main, TimeSpan limit)
    {
        Task<T>? task = null;
        int escapesBefore = EscapedCalls;
        Post(_ => task = main(), null);
        bool outer = !_runningTask;
        _runningTask = true;
        bool finished;
        try
        {
            finished = RunUntil(() => task is { IsCompleted: true }, limit);
        }
        finally
        {
            if (outer) _runningTask = false;
        }
        if (!finished)
        {
            if (_nothingPending)
            {
                throw new SimulationStalledException(
                    $"the simulated run cannot finish: at {Now} of virtual time no event is pending on the simulated network, and the code " +
                    "is waiting on something outside the simulation: a timer on the wall clock (Task.Delay or a CancellationTokenSource " +
                    "timeout without net.TimeProvider: give it net.TimeProvider), work on the thread pool (Task.Run, continuations after " +
                    "ConfigureAwait(false) or inside Stream.CopyToAsync: create the network with SettleThreadPool = true to run it on " +
                    "virtual time), or another thread" + EscapeReport());
            }
            throw new TimeoutException($"the simulated run did not finish within {limit} of virtual time (now {Now})" + EscapeReport());
        }
        // It finished, but what left the loop ran on the wall clock beside it: the same seed would not give the same run.
        if (EscapedCalls != escapesBefore && task!.IsCompletedSuccessfully)
            throw new InvalidOperationException("the simulated run finished, but not on virtual time alone" + EscapeReport());
        return task!.GetAwaiter().GetResult();
    }

    /// <summary>Calls from other threads that reached the stack while the loop did not settle the thread pool.</summary>
    public int EscapedCalls => Volatile.Read(ref _escapes);

    private string EscapeReport() => _escapes == 0 ? "." :
        $". {_escapes} call(s) reached the stacks from other threads while the loop ran without settling the thread pool, so they " +
        "were not on virtual time; the first " + _firstEscape + ". Keep application code on the loop (no Task.Run; a continuation " +
        "after ConfigureAwait(false) or inside Stream.CopyToAsync leaves it too), or create the network with SettleThreadPool = true, " +
        "which waits for the thread pool before moving time.";

    private void NoteEscape()
    {
        if (SettleThreadPool || Interlocked.Increment(ref _escapes) != 1) return;
        var thread = Thread.CurrentThread;
        _firstEscape = $"came from {(thread.IsThreadPoolThread ? "a thread-pool thread" : $"thread '{thread.Name ?? thread.ManagedThreadId.ToString(System.Globalization.CultureInfo.InvariantCulture)}'")}, called from:\n" +
            string.Join("\n", Environment.StackTrace.Split('\n').Skip(4).Where(l => !l.Contains(" Synack.Simulation.", StringComparison.Ordinal)).Take(12)).TrimEnd();
    }

    /// <summary>Runs <paramref name="main"/> on the loop until it completes, moving virtual time as the stacks and timers need.</summary><param name="main">The test: its awaits continue on the loop.</param><param name="limit">The most virtual time the run may take; past it, a <see cref="TimeoutException"/>. A run that stops because nothing is pending throws <see cref="SimulationStalledException"/> instead, naming what the test waits on.</param>
    public void Run(Func<Task> main, TimeSpan limit) => Run(async () =>
    {
        await main();
        return true;
    }, limit);

    private void DrainReady()
    {
        while (true)
        {
            if (_ready.TryDequeue(out var work)) work.Callback(work.State);
            else if (!SettleThreadPool && TakeForeign(firstCome: true) is { } foreign) foreign.Run(this);
            else return;
        }
    }

    private ForeignWork? TakeForeign(bool firstCome = false)
    {
        lock (_gate)
        {
            if (_foreign.Count == 0) return null;
            int best = 0;
            for (int i = 1; i < _foreign.Count; i++)
            {
                var (a, b) = (_foreign[i], _foreign[best]);
                if (firstCome ? a.Arrival < b.Arrival : (a.Order, a.Arrival).CompareTo((b.Order, b.Arrival)) < 0) best = i;
            }
            var work = _foreign[best];
            _foreign.RemoveAt(best);
            return work;
        }
    }

    private void AddForeign(ForeignWork work)
    {
        lock (_gate)
        {
            work.Arrival = _foreignArrivals++;
            _foreign.Add(work);
        }
        _wake.Set();
    }

    /// <summary>
    /// Waits until the thread pool has nothing queued and no more workers busy than those the run
    /// found busy when it began (a test framework's threads, blocked on the test) and those blocked
    /// in a call to the loop, twice in a row with no work item completed in between.
    /// </summary>
    private void Settle()
    {
        long completed = ThreadPool.CompletedWorkItemCount;
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int quiet = 0;
        for (int spins = 0; ; spins++)
        {
            int busy = BusyWorkers();
            int waiting = Volatile.Read(ref _blockedPoolCallers);
            bool idle = ThreadPool.PendingWorkItemCount == 0 && busy <= _othersBusy + waiting;
            long now = ThreadPool.CompletedWorkItemCount;
            if (idle && now == completed)
            {
                if (++quiet >= 2)
                {
                    if (busy - waiting < _othersBusy) _othersBusy = Math.Max(0, busy - waiting); // one of those threads has moved on
                    return;
                }
            }
            else
            {
                quiet = 0;
                completed = now;
            }
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > SettleTimeout)
            {
                // A worker held that long is blocked on something that is not ours: count it as
                // not ours from now on, rather than wait for it at every step.
                UnsettledSteps++;
                _othersBusy = Math.Max(_othersBusy, busy - waiting);
                return;
            }
            if (spins < 50)
            {
                Thread.Yield();
            }
            else if (spins < 2000)
            {
                // Give the core to the pool's workers (compiling, on a first request) without the
                // millisecond a timed wait costs at every settle point.
                Thread.Sleep(0);
            }
            else
            {
                _wake.Reset();
                _wake.Wait(1);
            }
        }
    }

    /// <summary>
    /// Waits a little (at most half a second) for work from other threads when nothing else is left:
    /// true when some arrived. It stops as soon as the thread pool has been idle for 50 ms (a busy test
    /// host is never that idle: then the half second), so a run whose code waits on the wall clock fails fast.
    /// </summary>
    private bool AwaitStragglers()
    {
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        long completed = ThreadPool.CompletedWorkItemCount;
        long quietSince = started;
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < TimeSpan.FromMilliseconds(500))
        {
            lock (_gate)
            {
                if (_foreign.Count > 0) return true;
            }
            if (!_ready.IsEmpty) return true;
            long now = ThreadPool.CompletedWorkItemCount;
            if (now != completed || ThreadPool.PendingWorkItemCount > 0)
            {
                completed = now;
                quietSince = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            else if (System.Diagnostics.Stopwatch.GetElapsedTime(quietSince) > TimeSpan.FromMilliseconds(50))
            {
                return false;
            }
            _wake.Reset();
            _wake.Wait(2);
        }
        return false;
    }

    private static int BusyWorkers()
    {
        ThreadPool.GetMaxThreads(out int max, out _);
        ThreadPool.GetAvailableThreads(out int available, out _);
        return max - available;
    }

    /// <summary>Workers busy when the run began, the least seen over a moment: the run's own thread and threads blocked on it.</summary>
    private static int MeasureOthersBusy()
    {
        int least = int.MaxValue;
        for (int i = 0; i < 20; i++)
        {
            least = Math.Min(least, BusyWorkers());
            Thread.Yield();
        }
        return least;
    }

    private bool Step(TimeSpan end)
    {
        var next = TimeSpan.MaxValue;
        if (_events.TryPeek(out _, out var key)) next = key.At;
        foreach (var n in _nodes)
        {
            if (n.NextWakeup is TimeSpan w && w < next) next = w;
        }
        if (next == TimeSpan.MaxValue || next > end)
        {
            _nothingPending = next == TimeSpan.MaxValue;
            return false;
        }
        if (next > Now) Now = next;
        foreach (var n in _nodes)
        {
            if (n.NextWakeup is TimeSpan w && w <= Now) n.Advance(Now);
        }
        if (_events.TryPeek(out _, out key) && key.At <= Now) _events.Dequeue()();
        return true;
    }

    private void Post(SendOrPostCallback callback, object? state)
    {
        if (Thread.CurrentThread == _loopThread || _loopThread is null)
        {
            _ready.Enqueue((callback, state));
            _wake.Set();
        }
        else
        {
            NoteEscape();
            AddForeign(new ForeignWork(long.MaxValue, () => callback(state), done: null));
        }
    }

    /// <summary>Work from another thread, not waited for (a pipe's continuation), run at a settle point in <paramref name="order"/>.</summary>
    internal void Post(long order, Action action)
    {
        if (_loopThread is null)
        {
            RunOnLoop(action);
        }
        else if (Thread.CurrentThread == _loopThread)
        {
            _ready.Enqueue((static a => ((Action)a!)(), action));
            _wake.Set();
        }
        else
        {
            NoteEscape();
            AddForeign(new ForeignWork(order, action, done: null));
        }
    }

    /// <summary>Work for a settle point of its own, whichever thread asks (the loop's included), taken in <paramref name="order"/>.</summary>
    internal void Defer(long order, Action action)
    {
        if (_loopThread is null) action();
        else AddForeign(new ForeignWork(order, action, done: null));
    }

    /// <summary>
    /// Runs stack work for any thread: inline on the loop's thread; queued to the loop and waited for
    /// while a run is going on elsewhere (taken at a settle point, in <paramref name="order"/>); or
    /// under the loop's lock when no run is.
    /// </summary>
    internal void RunOnLoop(Action action, long order = long.MaxValue)
    {
        if (Thread.CurrentThread == _loopThread)
        {
            action();
            return;
        }
        ForeignWork work;
        bool pool = Thread.CurrentThread.IsThreadPoolThread;
        lock (_gate)
        {
            if (_loopThread is null)
            {
                action();
                return;
            }
            NoteEscape();
            work = new ForeignWork(order, action, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)) { FromPool = pool, Arrival = _foreignArrivals++ };
            if (pool) _blockedPoolCallers++;
            _foreign.Add(work);
        }
        _wake.Set();
        if (work.Wait(BlockedLoopTimeout)) return;
        lock (_gate)
        {
            if (_foreign.Remove(work))
            {
                if (pool) _blockedPoolCallers--;
                throw new InvalidOperationException(
                    $"the simulation's loop took no call from other threads for {BlockedLoopTimeout.TotalSeconds:F0} s: its thread is probably blocked " +
                    "in a synchronous wait on work that needs the loop (.Result, .Wait(), or a synchronous Dispose such as disposing a " +
                    "WebApplication that was not stopped with 'await app.StopAsync()' first); code on the loop must await instead");
            }
        }
        work.Wait(Timeout.InfiniteTimeSpan); // taken just now: let it finish
    }

    /// <summary>How long a call from another thread waits for the loop before it fails, naming the likely cause.</summary>
    public TimeSpan BlockedLoopTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The run is over: calls queued from other threads meanwhile are run here, and later ones run under the lock.</summary>
    private void StopLooping()
    {
        lock (_gate)
        {
            _loopThread = null;
            _foreign.Sort((a, b) => a.Arrival.CompareTo(b.Arrival));
            foreach (var work in _foreign) work.Run(this);
            _foreign.Clear();
        }
    }

    /// <summary>Work handed to the loop by another thread; a caller waiting for it gets its exception back.</summary>
    private sealed class ForeignWork(long order, Action action, TaskCompletionSource? done)
    {
        private Exception? _error;

        public long Order { get; } = order;
        public long Arrival { get; set; }
        public bool FromPool { get; init; }

        public void Run(SimulatedNetwork net)
        {
            // From here the caller's thread is busy again: settling must wait for it.
            if (FromPool) Interlocked.Decrement(ref net._blockedPoolCallers);
            try
            {
                action();
            }
            catch (Exception e) when (done is not null)
            {
                _error = e;
            }
            finally
            {
                done?.TrySetResult();
            }
        }

        public bool Wait(TimeSpan timeout)
        {
            // A Task wait, not an event's: a thread-pool thread blocked in Task.Wait is one the pool
            // knows is blocked, and it adds a worker at once instead of after its starvation delay.
            if (!done!.Task.Wait(timeout)) return false;
            if (_error is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_error);
            return true;
        }
    }

    /// <summary>The loop as a SynchronizationContext: awaits resume here, in order.</summary>
    private sealed class LoopContext(SimulatedNetwork net) : SynchronizationContext
    {
        public override void Post(SendOrPostCallback d, object? state) => net.Post(d, state);
        public override void Send(SendOrPostCallback d, object? state) => net.RunOnLoop(() => d(state));
        public override SynchronizationContext CreateCopy() => this;
    }

    /// <summary>
    /// The loop as one host's stack sees it: calls from other threads are taken in the order of host
    /// (the order it was added: bits 56 and up) and then of what the socket layer says.
    /// </summary>
    private sealed class HostLoop(SimulatedNetwork net, int ordinal) : IStackLoop
    {
        private readonly long _host = (long)(ordinal & 0x7F) << 56;

        public TimeSpan Now => net.Now;
        public TimeProvider Time => net.TimeProvider;
        public bool ServesOtherThreads => net.SettleThreadPool;
        public void Invoke(Action action) => net.RunOnLoop(action);
        public void Invoke(Action action, long order) => net.RunOnLoop(action, _host | order);
        public void Post(Action action, long order) => net.Post(_host | order, action);

        public void Wake(Action wake, long order)
        {
            if (net.SettleThreadPool) net.Defer(_host | order, wake);
            else wake();
        }

        public PipeScheduler Scheduler(long order) =>
            net.SettleThreadPool ? new LoopScheduler(net, _host | order) : PipeScheduler.ThreadPool;
    }

    private sealed class LoopScheduler(SimulatedNetwork network, long order) : PipeScheduler
    {
        public override void Schedule(Action<object?> action, object? state) => network.Post(order, () => action(state));
    }
}
