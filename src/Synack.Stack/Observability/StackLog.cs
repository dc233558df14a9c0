using Microsoft.Extensions.Logging;
using Synack.Tcp;

namespace Synack.Stack;

/// <summary>The stack's log messages, source-generated: no formatting or allocation unless the level is on.</summary>
internal static partial class StackLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "{Stack} {Local} <-> {Remote}: {From} -> {To} ({Cause})")]
    public static partial void StateChanged(ILogger logger, string stack, string local, string remote, string from, string to, string cause);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "{Stack} dropped a packet: {Reason}")]
    public static partial void Dropped(ILogger logger, string stack, DropReason reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "{Stack} {Local} <-> {Remote} failed: {Error}")]
    public static partial void ConnectionFailed(ILogger logger, string stack, string local, string remote, TcpError error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "{Stack} listen queue of port {Port} is full (backlog {Backlog}): SYNs dropped ({Dropped} so far; said at most once a minute)")]
    public static partial void ListenQueueFull(ILogger logger, string stack, ushort port, int backlog, long dropped);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "{Stack} too many orphaned connections ({Limit}): closes are resets ({Reset} so far; said at most once a minute)")]
    public static partial void TooManyOrphans(ILogger logger, string stack, int limit, long reset);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "{Stack} under memory pressure: buffers hold {Bytes} of {Limit} bytes; windows held small, buffers not grown")]
    public static partial void MemoryPressure(ILogger logger, string stack, long bytes, long limit);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "{Stack} connection limit reached on port {Port} ({Limit}): SYNs dropped ({Dropped} so far; said at most once a minute)")]
    public static partial void ConnectionLimit(ILogger logger, string stack, ushort port, int limit, long dropped);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "{Stack} possible SYN flood on port {Port}: sending cookies ({Sent} so far; said at most once a minute)")]
    public static partial void SendingCookies(ILogger logger, string stack, ushort port, long sent);
}
