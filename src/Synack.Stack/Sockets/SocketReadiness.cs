namespace Synack.Stack;

/// <summary>What a <see cref="TcpSocket"/> is ready for, as poll(2) reports it.</summary>
[Flags]
public enum SocketReadiness
{
    /// <summary>Not ready for anything.</summary>
    None = 0,
    /// <summary>A read will not block: data, end of stream, an error; for a listener, a connection to accept.</summary>
    Readable = 1,
    /// <summary>A write will not block: the connection is up with send space, or has failed (the write reports why).</summary>
    Writable = 2,
    /// <summary>A pending error waits (SO_ERROR).</summary>
    Error = 4,
    /// <summary>Our side's close is complete: the FIN is acknowledged, or the connection is gone.</summary>
    Closed = 8,
}
