namespace Synack.Tcp;

/// <summary>
/// Every way a user call or a connection can fail, with the RFC 9293 message where it names one.
/// The host maps these onto SocketError.
/// </summary>
public enum TcpError
{
    /// <summary>No error.</summary>
    None = 0,
    /// <summary>RFC 9293: "connection does not exist".</summary>
    ConnectionDoesNotExist,
    /// <summary>RFC 9293: "connection already exists".</summary>
    ConnectionAlreadyExists,
    /// <summary>RFC 9293: "connection closing" — the user already closed this direction.</summary>
    ConnectionClosing,
    /// <summary>The peer answered our SYN with RST.</summary>
    ConnectionRefused,
    /// <summary>RFC 9293: "connection reset" — the peer sent an acceptable RST.</summary>
    ConnectionReset,
    /// <summary>SYN, data or keep-alive retransmissions ran out.</summary>
    TimedOut,
    /// <summary>The local user aborted the connection.</summary>
    Aborted,
    /// <summary>Nothing to read yet, or the send buffer is full: try again after the matching event.</summary>
    WouldBlock,
    /// <summary>An ICMP error said the peer cannot be reached (a hard error during connect).</summary>
    HostUnreachable,
    /// <summary>RFC 9293: "foreign socket unspecified" or a call that makes no sense in this state.</summary>
    InvalidState,
}

/// <summary>Text for <see cref="TcpError"/>.</summary>
public static class TcpErrorExtensions
{
    /// <summary>The RFC 9293 message ("connection reset") or a short description.</summary>
    public static string Describe(this TcpError e) => e switch
    {
        TcpError.None => "ok",
        TcpError.ConnectionDoesNotExist => "connection does not exist",
        TcpError.ConnectionAlreadyExists => "connection already exists",
        TcpError.ConnectionClosing => "connection closing",
        TcpError.ConnectionRefused => "connection refused",
        TcpError.ConnectionReset => "connection reset",
        TcpError.TimedOut => "connection timed out",
        TcpError.Aborted => "connection aborted",
        TcpError.WouldBlock => "would block: no data yet, or no buffer space",
        TcpError.HostUnreachable => "host unreachable (ICMP)",
        TcpError.InvalidState => "operation not valid in this state",
        _ => e.ToString(),
    };
}
