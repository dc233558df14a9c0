using Synack.Stack;

namespace Synack.Conformance;

/// <summary>
/// A BSD socket as a script sees it: a file descriptor over a <see cref="TcpSocket"/>, with what only
/// the descriptor knows (O_NONBLOCK, SO_REUSEADDR, whether a blocking connect has returned).
/// </summary>
internal sealed class ScriptSocket(int fd, TcpSocket socket)
{
    public int Fd { get; } = fd;
    public TcpSocket Socket { get; } = socket;
    public bool NonBlocking { get; set; }
    public bool ReuseAddress { get; set; }
    public bool ConnectReported { get; set; }
    /// <summary>shutdown(SHUT_RD): a read with nothing queued returns 0 at once (data that arrives is still read).</summary>
    public bool ReadShutdown { get; set; }
    /// <summary>What getsockopt(SO_SNDBUF) answers after a setsockopt (Linux doubles the value asked for).</summary>
    public int? SendBufferReported { get; set; }
    /// <summary>TCP_INQ: recvmsg() reports the bytes left to read in a TCP_CM_INQ control message.</summary>
    public bool ReportInq { get; set; }
    /// <summary>TCP_NOTSENT_LOWAT as the socket set it (getsockopt's answer; 0: the sysctl's applies).</summary>
    public long NotSentLowWater { get; set; }
    /// <summary>The backlog listen() was given (what Linux's tcp_info reports as tcpi_sacked for a listener).</summary>
    public int ListenBacklog { get; set; }
    /// <summary>A listener Linux's shutdown(SHUT_RD) stopped: a closed socket again (accept says EINVAL).</summary>
    public bool ListenStopped { get; set; }
    /// <summary>TCP_LINGER2 as the socket set it, in seconds (0: the sysctl's).</summary>
    public long Linger2 { get; set; }
    /// <summary>TCP_MAXSEG as the user set it: what getsockopt answers until the connection has an MSS of its own.</summary>
    public int? UserMss { get; set; }

    // What the last look at the socket saw, so the next one can tell which wake-ups happened in between.
    /// <summary>SOCK_NOSPACE: a write or a poll found no room; the ACK that makes some wakes the writers.</summary>
    public bool NoSpace { get; set; }
    public bool SeenAcceptable { get; set; }
    public Synack.Tcp.TcpState SeenState { get; set; }
    public bool SeenFailed { get; set; }
    public int SeenQueued { get; set; }
}
