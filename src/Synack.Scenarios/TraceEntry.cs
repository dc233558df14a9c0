using Synack.Tcp;

namespace Synack.Scenarios;

/// <summary>One entry of the ordered trace: everything that happens lands here, in order.</summary>
public sealed record TraceEntry(
    long Index,
    TimeSpan Time,
    TraceKind Kind,
    string Endpoint,
    SegmentInfo? Segment = null,
    TcpState From = TcpState.Closed,
    TcpState To = TcpState.Closed,
    string Text = "",
    TcpState ClientState = TcpState.Closed,
    TcpState ServerState = TcpState.Closed)
{
    /// <summary>One line of the trace.</summary>
    public override string ToString()
    {
        string t = $"{Time.TotalMilliseconds,10:F3}ms {Endpoint,-6} {Kind,-12}";
        return Kind switch
        {
            TraceKind.StateChanged => $"{t} {From.ToRfcName()} -> {To.ToRfcName()} ({Text})",
            _ when Segment is not null => $"{t} {Segment}" + (Text.Length > 0 ? $" ({Text})" : ""),
            _ => $"{t} {Text}",
        };
    }
}
