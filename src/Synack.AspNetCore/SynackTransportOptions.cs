using Synack.Tcp;

namespace Synack.AspNetCore;

/// <summary>How Kestrel's connections over Synack are set up.</summary>
public sealed record SynackTransportOptions
{
    /// <summary>The listen backlog: it bounds the SYN queue and the accept queue, each on its own (as Linux does).</summary>
    public int Backlog { get; init; } = 512;
    /// <summary>The accepted connections' options; the stack's by default.</summary>
    public ConnectionOptions? Connection { get; init; }
    /// <summary>TCP_NODELAY on accepted connections (Nagle's algorithm off), as Kestrel's socket transport does by default.</summary>
    public bool NoDelay { get; init; } = true;
    /// <summary>How much the transport reads ahead of the application before it stops reading (back-pressure).</summary>
    public long MaxReadBufferSize { get; init; } = 1024 * 1024;
    /// <summary>How much the application may write ahead of the connection before its writes wait.</summary>
    public long MaxWriteBufferSize { get; init; } = 64 * 1024;
    /// <summary>Where the connections' pipes take their blocks from (<see cref="System.Buffers.MemoryPool{T}.Shared"/> by default), as Kestrel's socket transport lets its pool be chosen.</summary>
    public System.Buffers.MemoryPool<byte>? MemoryPool { get; init; }
}
