namespace Synack.Tcp;

/// <summary>Where a host's buffer memory stands against its budget (Linux's tcp_mem).</summary>
public enum MemoryPressure
{
    /// <summary>Below the pressure threshold: buffers grow and windows open as usual.</summary>
    None,
    /// <summary>Past the threshold: no buffer grows, and a receive window offers at most four segments more.</summary>
    Pressure,
    /// <summary>At the limit: a connection that holds no buffer memory gets none — its data is dropped unacknowledged (the peer sends it again later) and its application's writes wait.</summary>
    Exhausted,
}
