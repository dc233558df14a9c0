using Synack.Wire;

namespace Synack.Stack;

/// <summary>Counters of one stack. Read them any time; the stack's own thread writes them.</summary>
public sealed class StackStatistics
{
    private readonly long[] _drops = new long[Enum.GetValues<DropReason>().Length];
    private readonly long[] _malformed = new long[Enum.GetValues<ParseError>().Length];

    /// <summary>IP packets received.</summary>
    public long PacketsIn { get; internal set; }
    /// <summary>IP packets sent.</summary>
    public long PacketsOut { get; internal set; }
    /// <summary>RST segments sent.</summary>
    public long ResetsSent { get; internal set; }
    /// <summary>Active opens.</summary>
    public long ConnectionsOpened { get; internal set; }
    /// <summary>Connections a listener completed.</summary>
    public long ConnectionsAccepted { get; internal set; }
    /// <summary>TIME-WAIT tuples reopened by a new SYN (RFC 6191).</summary>
    public long TimeWaitReused { get; internal set; }
    /// <summary>Bytes the connections' buffers hold now (rented storage), against StackOptions.BufferMemoryLimit.</summary>
    public long BufferBytes { get; internal set; }
    /// <summary>The most <see cref="BufferBytes"/> has been.</summary>
    public long BufferBytesPeak { get; internal set; }
    /// <summary>Closes turned into resets because too many closed connections were still draining (StackOptions.MaxOrphans).</summary>
    public long OrphansReset { get; internal set; }
    /// <summary>Times the buffers passed the pressure threshold (three quarters of the budget) from below.</summary>
    public long MemoryPressureEntered { get; internal set; }
    /// <summary>Segments whose data was dropped, and writes made to wait, because the budget was spent.</summary>
    public long MemoryRefusals { get; internal set; }
    /// <summary>SYN-ACKs sent with a cookie instead of state (a SYN queue full, or cookies always on).</summary>
    public long SynCookiesSent { get; internal set; }
    /// <summary>Connections opened by an ACK that returned a valid cookie.</summary>
    public long SynCookiesValid { get; internal set; }
    /// <summary>ACKs to a listener that sent cookies whose number was no cookie of ours (forged, or older than two minutes): answered with RST.</summary>
    public long SynCookiesFailed { get; internal set; }
    /// <summary>Out-of-order segments dropped because their connection's reassembly queue had no range left (a SegmentSmack-style flood).</summary>
    public long OutOfOrderRefused { get; internal set; }
    /// <summary>SACK blocks ignored: about nothing in flight, or beyond what the scoreboard keeps (a SACK-panic-style flood).</summary>
    public long SackBlocksRefused { get; internal set; }
    /// <summary>Data and FIN segments retransmitted by connections that have since left the table (a live one's are in its own counters).</summary>
    public long RetransmittedSegments { get; internal set; }

    /// <summary>Packets dropped for <paramref name="reason"/>.</summary>
    public long Dropped(DropReason reason) => _drops[(int)reason];
    /// <summary>Packets dropped as malformed because of <paramref name="error"/>.</summary>
    public long Malformed(ParseError error) => _malformed[(int)error];
    /// <summary>Packets dropped for any reason.</summary>
    public long DroppedTotal => _drops.Sum();

    internal void Drop(DropReason reason) => _drops[(int)reason]++;

    internal void Drop(ParseError error)
    {
        _malformed[(int)error]++;
        _drops[(int)(error == ParseError.BadChecksum ? DropReason.BadChecksum : error == ParseError.NotTcp ? DropReason.NotTcp : DropReason.Malformed)]++;
    }

    /// <summary>Every non-zero counter, for a summary line.</summary>
    public override string ToString()
    {
        var parts = new List<string> { $"in {PacketsIn}", $"out {PacketsOut}", $"rst sent {ResetsSent}" };
        if (MemoryPressureEntered > 0) parts.Add($"memory pressure {MemoryPressureEntered}, refused {MemoryRefusals}");
        if (OutOfOrderRefused > 0) parts.Add($"out-of-order refused {OutOfOrderRefused}");
        if (SackBlocksRefused > 0) parts.Add($"sack blocks refused {SackBlocksRefused}");
        if (SynCookiesSent + SynCookiesFailed > 0) parts.Add($"syn cookies sent {SynCookiesSent}, valid {SynCookiesValid}, failed {SynCookiesFailed}");
        foreach (var r in Enum.GetValues<DropReason>())
        {
            if (_drops[(int)r] > 0) parts.Add($"dropped {r} {_drops[(int)r]}");
        }
        return string.Join(", ", parts);
    }
}
