using Synack.Stack;

namespace Synack.Simulation;

/// <summary>
/// The simulation's clock as a <see cref="TimeProvider"/>: application code can <c>Task.Delay(…, provider)</c>
/// or start timers, and they fire in virtual time, in order, on the simulation's loop.
/// </summary>
public sealed class VirtualTimeProvider : TimeProvider
{
    private static readonly DateTimeOffset Epoch = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly SimulatedNetwork _net;

    internal VirtualTimeProvider(SimulatedNetwork net) => _net = net;

    /// <summary>A fixed epoch (2026-01-01 UTC) plus the network's virtual time: the same dates in every run.</summary>
    public override DateTimeOffset GetUtcNow() => Epoch + _net.Now;
    /// <summary>The network's virtual time in ticks.</summary>
    public override long GetTimestamp() => _net.Now.Ticks;
    /// <summary>Ticks per second.</summary>
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    /// <summary>UTC: a run never depends on the machine's time zone.</summary>
    public override TimeZoneInfo LocalTimeZone => TimeZoneInfo.Utc;

    /// <summary>A timer that fires on the loop at virtual times.</summary>
    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        new VirtualTimer(_net, callback, state, dueTime, period);

    private sealed class VirtualTimer : ITimer
    {
        private readonly SimulatedNetwork _net;
        private readonly TimerCallback _callback;
        private readonly object? _state;
        private long _generation;
        private TimeSpan _period;

        public VirtualTimer(SimulatedNetwork net, TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            _net = net;
            _callback = callback;
            _state = state;
            Change(dueTime, period);
        }

        // Timers are made and changed from any thread (a CancellationTokenSource on the thread pool):
        // the change is made on the loop, which owns the event queue.
        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            _net.RunOnLoop(() =>
            {
                long generation = ++_generation;
                _period = period;
                if (dueTime != Timeout.InfiniteTimeSpan) Schedule(dueTime, generation);
            });
            return true;
        }

        private void Schedule(TimeSpan due, long generation) => _net.Schedule(_net.Now + due, () =>
        {
            if (generation != _generation) return; // changed or disposed since
            _callback(_state);
            if (_period > TimeSpan.Zero && _period != Timeout.InfiniteTimeSpan && generation == _generation) Schedule(_period, generation);
        });

        public void Dispose() => _net.RunOnLoop(() => _generation++);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
