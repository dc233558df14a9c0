using Synack.Wire;

namespace Synack.Tcp;

/// <summary>
/// Where a sans-I/O connection's output goes. Calls arrive synchronously while the connection
/// processes an input; the host must not call back into the connection from <see cref="Transmit"/>
/// (queue the bytes instead). User events are delivered after the connection has finished the input,
/// so a host may call the connection from <see cref="Notify"/>.
/// </summary>
public interface IConnectionHost
{
    /// <summary>A segment to put on the wire. Ports, seq, ack, flags, window and options are set; the checksum is the host's.</summary>
    void Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout);

    /// <summary>The connection moved from one state to another; <paramref name="cause"/> says why ("user CLOSE", "rcv FIN", "2MSL timeout").</summary>
    void StateChanged(Connection connection, TcpState from, TcpState to, string cause);

    /// <summary>A user event (data to read, room to write, connected, closed, failed with <paramref name="error"/>), after the input is processed.</summary>
    void Notify(Connection connection, ConnectionEvent e, TcpError error);

    /// <summary>A timer fired (for traces; the connection has already acted on it).</summary>
    void TimerFired(Connection connection, TcpTimer timer);

    /// <summary>The host's buffer memory against its budget; a host without one never presses.</summary>
    MemoryPressure Pressure => MemoryPressure.None;

    /// <summary>The connection's buffers now hold <paramref name="delta"/> bytes more (or fewer) than it last said.</summary>
    void BufferBytesChanged(Connection connection, int delta)
    {
    }

    /// <summary>The connection turned data away, or made a write wait, for want of buffer memory.</summary>
    void MemoryRefused(Connection connection)
    {
    }

    /// <summary>The connection turned part of a segment away to stay within its bounds (<paramref name="count"/> times in that segment).</summary>
    void InputRefused(Connection connection, RefusedInput what, int count)
    {
    }
}
