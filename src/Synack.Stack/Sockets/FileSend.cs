using Microsoft.Win32.SafeHandles;
using Synack.Tcp;

namespace Synack.Stack;

/// <summary>
/// A file being sent by <see cref="TcpSocket.SendFile"/>: the send buffer reads the next bytes straight
/// into its free space whenever acknowledgments free some (pread at the running offset), on whatever
/// thread brought the acknowledgment — no thread of the application's wakes per chunk.
/// </summary>
internal sealed class FileSend(SafeFileHandle file, long offset, long count) : ISendSource
{
    private long _offset = offset;
    public long Remaining { get; private set; } = count;
    public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    /// <summary>Set while the send buffer reads from it: the output it causes settles the socket again, which must not read again.</summary>
    public bool Pumping { get; set; }

    public int Fill(Span<byte> destination)
    {
        if (Remaining == 0) return 0;
        if (destination.Length > Remaining) destination = destination[..(int)Remaining];
        int n = RandomAccess.Read(file, destination, _offset);
        if (n == 0) throw new EndOfStreamException($"the file ended {Remaining} bytes before the count asked for");
        _offset += n;
        Remaining -= n;
        return n;
    }
}
