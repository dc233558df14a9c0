using Synack.Stack;
using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>
/// A BSD socket as a script sees it: a file descriptor over a listener or a connection of the stack,
/// with the socket layer's own state (O_NONBLOCK, the pending error SO_ERROR returns, options set
/// before the connection exists).
/// </summary>
internal sealed class ScriptSocket(int fd, ConnectionOptions options) : IConnectionObserver
{
    public int Fd { get; } = fd;
    public ConnectionOptions Options { get; set; } = options;
    public bool NonBlocking { get; set; }
    public bool ReuseAddress { get; set; }
    /// <summary>SO_LINGER with a zero time: close() resets the connection.</summary>
    public bool LingerZero { get; set; }
    public ushort? BoundPort { get; set; }
    public Listener? Listener { get; set; }
    public StackConnection? Connection { get; set; }
    /// <summary>so_error: set when the connection fails, returned and cleared by SO_ERROR and by the next call.</summary>
    public string? PendingError { get; set; }
    /// <summary>The connection failed or was reset; reads after the error see end of stream.</summary>
    public bool Failed { get; set; }
    public bool ConnectReported { get; set; }

    public TcpState? State => Connection?.Connection.State;

    public void OnEvent(ConnectionEvent e, TcpError error)
    {
        if (e != ConnectionEvent.Failed) return;
        Failed = true;
        PendingError = Errno.FromTcpError(error);
    }

    public void OnStateChanged(TcpState from, TcpState to)
    {
    }
}

/// <summary>errno names as FreeBSD spells them, and the stack's errors mapped onto them.</summary>
internal static class Errno
{
    public static string? FromTcpError(TcpError e) => e switch
    {
        TcpError.None => null,
        TcpError.ConnectionRefused => "ECONNREFUSED",
        TcpError.ConnectionReset => "ECONNRESET",
        TcpError.TimedOut => "ETIMEDOUT",
        TcpError.HostUnreachable => "EHOSTUNREACH",
        TcpError.Aborted => "ECONNABORTED",
        TcpError.WouldBlock => "EWOULDBLOCK",
        TcpError.ConnectionClosing => "EPIPE",
        TcpError.ConnectionDoesNotExist => "ENOTCONN",
        TcpError.ConnectionAlreadyExists => "EISCONN",
        _ => "EINVAL",
    };

    /// <summary>EAGAIN and EWOULDBLOCK are one errno on every system the suite runs on.</summary>
    public static bool Same(string a, string b) => Canonical(a) == Canonical(b);

    private static string Canonical(string e) => e == "EAGAIN" ? "EWOULDBLOCK" : e;
}
