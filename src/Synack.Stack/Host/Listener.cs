using Synack.Tcp;

namespace Synack.Stack;

/// <summary>A passive open: a port (and maybe an address) with a SYN queue and an accept queue.</summary>
internal sealed class Listener
{
    public required ushort Port { get; init; }
    public Synack.Wire.IpAddr? Address { get; init; }
    public required int Backlog { get; set; }
    /// <summary>What connections it accepts from now on start with (setsockopt on a listener changes it).</summary>
    public required ConnectionOptions Options { get; set; }
    /// <summary>Connections in SYN-RECEIVED (the SYN queue).</summary>
    public int HalfOpen { get; set; }
    /// <summary>Connections it spawned that are still in the stack's table, accepted or not.</summary>
    public int Live { get; set; }
    /// <summary>The most of those it may have (StackOptions.MaxConnectionsPerListener); a SYN beyond is dropped.</summary>
    public int MaxConnections { get; init; } = int.MaxValue;
    /// <summary>Established connections the application has not accepted yet.</summary>
    public Queue<StackConnection> AcceptQueue { get; } = new();
    public Action? Ready { get; set; }
    public bool Closed { get; set; }
    /// <summary>When this listener last answered a SYN with a cookie: for two minutes after, an ACK with no connection may be returning one.</summary>
    public TimeSpan? CookieSentAt { get; set; }
    /// <summary>When its warning (queue full, or cookies) was last logged: at most one a minute, whatever the flood.</summary>
    public TimeSpan? WarnedAt { get; set; }

    /// <summary>True (and the time noted) when a warning may be logged now.</summary>
    public bool MayWarn(TimeSpan now)
    {
        if (WarnedAt is TimeSpan t && now - t < TimeSpan.FromMinutes(1)) return false;
        WarnedAt = now;
        return true;
    }
}
