namespace Synack.Tcp;

/// <summary>
/// Bytes the send buffer pulls in place as it frees up, as the kernel's sendfile() does: the sender's
/// own storage is handed out and nothing passes through a buffer of the application's.
/// </summary>
internal interface ISendSource
{
    /// <summary>Writes up to <paramref name="destination"/>'s length of the next bytes there; 0 when none are left.</summary>
    int Fill(Span<byte> destination);
}
