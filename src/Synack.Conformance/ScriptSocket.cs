using System.Net.Sockets;
using Synack.Stack;
using Synack.Tcp;

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
}

/// <summary>errno names as FreeBSD spells them, and the socket's errors mapped onto them.</summary>
internal static class Errno
{
    public static string From(SocketError e) => e switch
    {
        SocketError.ConnectionRefused => "ECONNREFUSED",
        SocketError.ConnectionReset => "ECONNRESET",
        SocketError.TimedOut => "ETIMEDOUT",
        SocketError.HostUnreachable => "EHOSTUNREACH",
        SocketError.OperationAborted or SocketError.ConnectionAborted => "ECONNABORTED",
        SocketError.WouldBlock => "EWOULDBLOCK",
        SocketError.InProgress => "EINPROGRESS",
        SocketError.AlreadyInProgress => "EALREADY",
        SocketError.Shutdown => "EPIPE",
        SocketError.NotConnected => "ENOTCONN",
        SocketError.IsConnected => "EISCONN",
        SocketError.AddressAlreadyInUse => "EADDRINUSE",
        SocketError.AddressNotAvailable => "EADDRNOTAVAIL",
        _ => "EINVAL",
    };

    /// <summary>EAGAIN and EWOULDBLOCK are one errno on every system the suite runs on.</summary>
    public static bool Same(string a, string b) => Canonical(a) == Canonical(b);

    private static string Canonical(string e) => e == "EAGAIN" ? "EWOULDBLOCK" : e;
}
