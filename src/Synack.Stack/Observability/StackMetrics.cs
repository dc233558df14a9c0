using System.Diagnostics.Metrics;

namespace Synack.Stack;

/// <summary>
/// The stack's counters as System.Diagnostics.Metrics instruments (meter "Synack.Stack"), observed from
/// <see cref="StackStatistics"/>, so the hot path only increments plain fields.
/// </summary>
internal sealed class StackMetrics : IDisposable
{
    public const string MeterName = "Synack.Stack";
    private readonly Meter _meter;

    public StackMetrics(NetworkStack stack, IMeterFactory? factory)
    {
        _meter = factory?.Create(MeterName) ?? new Meter(MeterName);
        var host = new KeyValuePair<string, object?>("synack.host", stack.Name);
        // The instruments hold the stack weakly: a meter is registered process-wide, and one holding its
        // stack would keep every stack a program forgot to dispose (a test, a sweep of a hundred thousand
        // simulated runs) alive for good. A stack that is collected disposes its meter in its finalizer.
        var weak = new WeakReference<NetworkStack>(stack);
        Func<IEnumerable<Measurement<long>>> Of(Func<NetworkStack, long> read) => () =>
            weak.TryGetTarget(out var st) ? [new Measurement<long>(read(st), host)] : [];
        _meter.CreateObservableCounter("synack.packets.in", Of(st => st.Statistics.PacketsIn), "{packet}");
        _meter.CreateObservableCounter("synack.packets.out", Of(st => st.Statistics.PacketsOut), "{packet}");
        _meter.CreateObservableCounter("synack.resets.sent", Of(st => st.Statistics.ResetsSent), "{segment}");
        _meter.CreateObservableCounter("synack.connections.opened", Of(st => st.Statistics.ConnectionsOpened), "{connection}");
        _meter.CreateObservableCounter("synack.connections.accepted", Of(st => st.Statistics.ConnectionsAccepted), "{connection}");
        _meter.CreateObservableGauge("synack.buffers.bytes", Of(st => st.Statistics.BufferBytes), "By");
        _meter.CreateObservableCounter("synack.syn_cookies.sent", Of(st => st.Statistics.SynCookiesSent), "{segment}");
        _meter.CreateObservableCounter("synack.syn_cookies.valid", Of(st => st.Statistics.SynCookiesValid), "{connection}");
        _meter.CreateObservableCounter("synack.syn_cookies.failed", Of(st => st.Statistics.SynCookiesFailed), "{segment}");
        _meter.CreateObservableCounter("synack.input.refused.out_of_order", Of(st => st.Statistics.OutOfOrderRefused), "{segment}");
        _meter.CreateObservableCounter("synack.input.refused.sack_blocks", Of(st => st.Statistics.SackBlocksRefused), "{block}");
        _meter.CreateObservableCounter("synack.memory.refusals", Of(st => st.Statistics.MemoryRefusals), "{event}");
        _meter.CreateObservableCounter("synack.packets.dropped", () => weak.TryGetTarget(out var st) ? Drops(st.Statistics, host) : [], "{packet}");
        _meter.CreateObservableGauge("synack.connections", Of(st => st.ConnectionCount), "{connection}");
        _meter.CreateObservableGauge("synack.time_wait", Of(st => st.TimeWaitCount), "{connection}");
    }

    private static IEnumerable<Measurement<long>> Drops(StackStatistics s, KeyValuePair<string, object?> host)
    {
        foreach (var r in Enum.GetValues<DropReason>())
        {
            yield return new Measurement<long>(s.Dropped(r), host, new KeyValuePair<string, object?>("synack.drop.reason", r.ToString()));
        }
    }

    public void Dispose() => _meter.Dispose();
}
