using System.Net.Sockets;

namespace Synack.Conformance;

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
