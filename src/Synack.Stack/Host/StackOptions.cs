using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>How one host is set up: its addresses, its connections' defaults, its randomness.</summary>
public sealed record StackOptions
{
    /// <summary>The host's name in traces, captures and metrics.</summary>
    public string Name { get; init; } = "host";
    /// <summary>The addresses the stack answers on; the first is the default source.</summary>
    public IReadOnlyList<IpAddr> Addresses { get; init; } = [];
    /// <summary>The profile every connection starts with (a socket may change its own).</summary>
    public ConnectionOptions Connection { get; init; } = ConnectionOptions.Default;
    /// <summary>Secret for ISNs (RFC 6528) and ephemeral ports (RFC 6056); null picks a random one.</summary>
    public byte[]? Secret { get; init; }
    /// <summary>Where ISNs come from; null: RFC 6528 with a random secret (a simulated network passes one from its seed).</summary>
    public IIsnGenerator? IsnGenerator { get; init; }
    /// <summary>Ephemeral port range (Linux ip_local_port_range).</summary>
    public ushort EphemeralPortMin { get; init; } = 32768;
    /// <summary>The highest ephemeral port (Linux's ip_local_port_range: 32768-60999).</summary>
    public ushort EphemeralPortMax { get; init; } = 60999;
    /// <summary>The listen backlog when a listener names none.</summary>
    public int DefaultBacklog { get; init; } = 128;
    /// <summary>
    /// Connections the stack holds at most (TIME-WAIT entries apart, which are small and have their own
    /// table): an active open beyond it fails with TooManyOpenSockets, a SYN beyond it is dropped and
    /// counted. A bound on memory, as the kernel's file limit is one on sockets.
    /// </summary>
    public int MaxConnections { get; init; } = 2_000_000;
    /// <summary>
    /// The budget for all connections' send and receive buffers together (Linux's tcp_mem). Past three
    /// quarters of it no buffer grows and receive windows offer at most four segments more; at it, a
    /// connection holding no buffer memory gets none (its data is dropped unacknowledged, its writes
    /// wait). Each connection still has its own SO_SNDBUF/SO_RCVBUF bound under it.
    /// </summary>
    public long BufferMemoryLimit { get; init; } = 1L << 30;
    /// <summary>
    /// Connections closed by their applications that may still drain at once (Linux's tcp_max_orphans,
    /// 65,536 here): a close past it resets the connection instead, counted as OrphansReset.
    /// </summary>
    public int MaxOrphans { get; init; } = 65_536;
    /// <summary>Connections one listener may have spawned and still open, accepted or not; a SYN beyond is dropped and counted.</summary>
    public int MaxConnectionsPerListener { get; init; } = int.MaxValue;
    /// <summary>RFC 6191: a SYN may reopen a 4-tuple in TIME-WAIT when its ISN (or timestamp) is newer.</summary>
    public bool ReuseTimeWait { get; init; } = true;
    /// <summary>Where the stack logs (state changes at Debug, failures at Information); none by default.</summary>
    public Microsoft.Extensions.Logging.ILoggerFactory? LoggerFactory { get; init; }
    /// <summary>Where the stack's meter ("Synack.Stack") is created; a private meter by default.</summary>
    public System.Diagnostics.Metrics.IMeterFactory? MeterFactory { get; init; }
}
