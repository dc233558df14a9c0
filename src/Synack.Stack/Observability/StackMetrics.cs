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
        var s = stack.Statistics;
        _meter.CreateObservableCounter("synack.packets.in", () => new Measurement<long>(s.PacketsIn, host), "{packet}");
        _meter.CreateObservableCounter("synack.packets.out", () => new Measurement<long>(s.PacketsOut, host), "{packet}");
        _meter.CreateObservableCounter("synack.resets.sent", () => new Measurement<long>(s.ResetsSent, host), "{segment}");
        _meter.CreateObservableCounter("synack.connections.opened", () => new Measurement<long>(s.ConnectionsOpened, host), "{connection}");
        _meter.CreateObservableCounter("synack.connections.accepted", () => new Measurement<long>(s.ConnectionsAccepted, host), "{connection}");
        _meter.CreateObservableGauge("synack.buffers.bytes", () => new Measurement<long>(s.BufferBytes, host), "By");
        _meter.CreateObservableCounter("synack.syn_cookies.sent", () => new Measurement<long>(s.SynCookiesSent, host), "{segment}");
        _meter.CreateObservableCounter("synack.syn_cookies.valid", () => new Measurement<long>(s.SynCookiesValid, host), "{connection}");
        _meter.CreateObservableCounter("synack.syn_cookies.failed", () => new Measurement<long>(s.SynCookiesFailed, host), "{segment}");
        _meter.CreateObservableCounter("synack.packets.dropped", () => Drops(s, host), "{packet}");
        _meter.CreateObservableGauge("synack.connections", () => new Measurement<int>(stack.ConnectionCount, host), "{connection}");
        _meter.CreateObservableGauge("synack.time_wait", () => new Measurement<int>(stack.TimeWaitCount, host), "{connection}");
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
