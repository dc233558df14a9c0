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

    private static readonly Dictionary<int, string> LinuxNames = new()
    {
        [1] = "EPERM", [2] = "ENOENT", [4] = "EINTR", [5] = "EIO", [9] = "EBADF", [11] = "EAGAIN", [12] = "ENOMEM",
        [13] = "EACCES", [14] = "EFAULT", [16] = "EBUSY", [17] = "EEXIST", [22] = "EINVAL", [24] = "EMFILE", [32] = "EPIPE",
        [88] = "ENOTSOCK", [89] = "EDESTADDRREQ", [90] = "EMSGSIZE", [92] = "ENOPROTOOPT", [93] = "EPROTONOSUPPORT",
        [95] = "EOPNOTSUPP", [97] = "EAFNOSUPPORT", [98] = "EADDRINUSE", [99] = "EADDRNOTAVAIL", [100] = "ENETDOWN",
        [101] = "ENETUNREACH", [103] = "ECONNABORTED", [104] = "ECONNRESET", [105] = "ENOBUFS", [106] = "EISCONN",
        [107] = "ENOTCONN", [108] = "ESHUTDOWN", [110] = "ETIMEDOUT", [111] = "ECONNREFUSED", [112] = "EHOSTDOWN",
        [113] = "EHOSTUNREACH", [114] = "EALREADY", [115] = "EINPROGRESS",
    };

    /// <summary>The name of a Linux errno value ("ECONNRESET"), or "errno N" for one not listed.</summary>
    public static string Name(int errno) => LinuxNames.TryGetValue(errno, out var name) ? name : $"errno {errno}";

    /// <summary>EAGAIN and EWOULDBLOCK are one errno on every system the suite runs on.</summary>
    public static bool Same(string a, string b) => Canonical(a) == Canonical(b);

    private static string Canonical(string e) => e == "EAGAIN" ? "EWOULDBLOCK" : e;
}
