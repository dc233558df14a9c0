using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// What TIME-WAIT needs and nothing more: about 80 bytes a connection instead of a TCB with buffers.
/// A connection that reaches TIME-WAIT is replaced by one of these (as Linux does with its
/// inet_timewait_sock).
/// </summary>
internal sealed class TimeWaitEntry(NetworkStack stack) : TimedEntry
{
    public FourTuple Tuple;
    public SeqNum SndNxt;
    public SeqNum RcvNxt;
    public bool Timestamps;
    /// <summary>The window field of our last segment: a TIME-WAIT ACK repeats it, as Linux's does.</summary>
    public ushort Window;
    public uint TsRecent;
    public uint TsOffset;
    public TimeSpan Expires;
    /// <summary>The window segments are checked against (the connection's acceptance window when it entered TIME-WAIT).</summary>
    public uint AcceptWindow;
    /// <summary>The application had closed the socket (not only shut down sending) when TIME-WAIT began.</summary>
    public bool Orphaned;
    /// <summary>The IP fields the connection's packets carried (IP_TOS, IP_TTL), for the entry's answers.</summary>
    public byte Dscp, HopLimit;
    /// <summary>The options of the connection this entry replaced: its RFC 5961 and TIME-WAIT policies.</summary>
    public Synack.Tcp.ConnectionOptions Options = null!;

    public override void Expire(TimeSpan now) => stack.ExpireTimeWait(this, now);
}

/// <summary>The outcome of a segment that hit a TIME-WAIT entry.</summary>
internal enum TimeWaitVerdict
{
    Handled,
    /// <summary>RFC 6191: a new SYN with a newer ISN or timestamp; the entry is gone, treat it as a new connection.</summary>
    Reopen,
}

internal sealed class TimeWaitTable
{
    private readonly Dictionary<FourTuple, TimeWaitEntry> _entries = new();

    public int Count => _entries.Count;

    public bool TryGet(in FourTuple t, out TimeWaitEntry entry) => _entries.TryGetValue(t, out entry!);

    public void Add(TimeWaitEntry e) => _entries[e.Tuple] = e;

    public bool Remove(in FourTuple t) => _entries.Remove(t);

    public IEnumerable<TimeWaitEntry> Entries => _entries.Values;
}
