using System.Runtime.InteropServices;

namespace Synack.Tun;

/// <summary>The few libc calls a TUN device needs.</summary>
internal static unsafe partial class Native
{
    public const int O_RDWR = 2;
    public const int O_NONBLOCK = 0x800;
    public const int O_CLOEXEC = 0x80000;
    public const uint TUNSETIFF = 0x400454ca;
    public const uint TUNSETOFFLOAD = 0x400454d0;
    public const uint TUN_F_CSUM = 0x01, TUN_F_TSO4 = 0x02, TUN_F_TSO6 = 0x04;
    public const short IFF_TUN = 0x0001;
    public const short IFF_NO_PI = 0x1000;
    public const short IFF_MULTI_QUEUE = 0x0100;
    public const short IFF_VNET_HDR = 0x4000;
    /// <summary>struct virtio_net_hdr: flags, gso_type, hdr_len, gso_size, csum_start, csum_offset.</summary>
    public const int VnetHeaderLength = 10;
    public const byte VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
    public const byte VIRTIO_NET_HDR_GSO_NONE = 0;
    public const byte VIRTIO_NET_HDR_GSO_TCPV4 = 1;
    public const byte VIRTIO_NET_HDR_GSO_TCPV6 = 4;
    /// <summary>The GSO packet's TCP header has CWR: it goes on the first cut only.</summary>
    public const byte VIRTIO_NET_HDR_GSO_ECN = 0x80;
    public const short POLLIN = 0x001;
    public const int EAGAIN = 11;
    public const int EINTR = 4;
    public const int EFD_NONBLOCK = 0x800;
    public const int EFD_CLOEXEC = 0x80000;

    [StructLayout(LayoutKind.Sequential)]
    public struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int Ioctl(int fd, nuint request, byte* arg);

    [LibraryImport("libc", EntryPoint = "ioctl", SetLastError = true)]
    public static partial int IoctlValue(int fd, nuint request, nuint arg);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buf, nuint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(PollFd* fds, nuint nfds, int timeout);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initval, int flags);

    public const int CLONE_NEWNET = 0x40000000;

    [LibraryImport("libc", EntryPoint = "setns", SetLastError = true)]
    public static partial int SetNs(int fd, int nstype);

    public static string Error() => $"errno {Marshal.GetLastPInvokeError()} ({Marshal.GetLastPInvokeErrorMessage()})";
}
