using System.Buffers;
using System.Diagnostics;
using System.Text;
using Synack.Stack;

namespace Synack.Tun;

/// <summary>
/// A Linux TUN device (IFF_TUN, IFF_NO_PI) as a link for one stack: the kernel on the other side. One
/// read is one IP packet, one write is one packet. A dedicated thread polls the device (and an
/// eventfd, to wake it for a clean shutdown) and posts each packet to the stack's loop.
/// </summary>
public sealed unsafe class TunLink : IPacketSink, IDisposable
{
    private readonly int _fd;
    private readonly int _wake;
    private readonly StackThread _loop;
    private readonly Thread _reader;
    private readonly int _mtu;
    private volatile bool _stopping;

    private TunLink(int fd, int wake, string name, StackThread loop, int mtu)
    {
        _fd = fd;
        _wake = wake;
        Name = name;
        _loop = loop;
        _mtu = mtu;
        loop.Stack.Output = this;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = $"tun {name}" };
        _reader.Start();
    }

    public string Name { get; }
    public long PacketsRead { get; private set; }
    public long PacketsWritten { get; private set; }
    public long WriteErrors { get; private set; }

    /// <summary>Opens (creating if needed) the TUN device <paramref name="name"/> and starts reading it into <paramref name="loop"/>'s stack.</summary>
    public static TunLink Open(string name, StackThread loop, int mtu = 1500)
    {
        if (mtu is < 576 or > 65535) throw new ArgumentOutOfRangeException(nameof(mtu), "MTU must be 576..65535");
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length is 0 or > 15) throw new ArgumentException("an interface name is 1 to 15 characters", nameof(name));
        int fd = Native.Open("/dev/net/tun", Native.O_RDWR | Native.O_CLOEXEC);
        if (fd < 0) throw new IOException($"cannot open /dev/net/tun: {Native.Error()} (root or CAP_NET_ADMIN is needed)");
        byte* ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        nameBytes.CopyTo(new Span<byte>(ifr, 16));
        *(short*)(ifr + 16) = Native.IFF_TUN | Native.IFF_NO_PI;
        if (Native.Ioctl(fd, Native.TUNSETIFF, ifr) < 0)
        {
            var err = Native.Error();
            Native.Close(fd);
            throw new IOException($"TUNSETIFF {name}: {err}");
        }
        int wake = Native.EventFd(0, Native.EFD_NONBLOCK | Native.EFD_CLOEXEC);
        if (wake < 0)
        {
            var err = Native.Error();
            Native.Close(fd);
            throw new IOException($"eventfd: {err}");
        }
        return new TunLink(fd, wake, name, loop, mtu);
    }

    /// <summary>
    /// Creates the device inside the named network namespace (as made by <c>ip netns add</c>) without
    /// moving this process there: a helper thread enters the namespace, opens the device and leaves.
    /// The device never exists in the caller's namespace; <see cref="Configure"/> then sets it up there.
    /// </summary>
    public static TunLink OpenInNamespace(string netns, string name, StackThread loop, int mtu = 1500)
    {
        TunLink? link = null;
        Exception? error = null;
        var t = new Thread(() =>
        {
            int self = Native.Open("/proc/thread-self/ns/net", Native.O_CLOEXEC);
            int target = Native.Open($"/var/run/netns/{netns}", Native.O_CLOEXEC);
            try
            {
                if (self < 0 || target < 0) throw new IOException($"cannot open the namespace {netns}: {Native.Error()}");
                if (Native.SetNs(target, Native.CLONE_NEWNET) < 0) throw new IOException($"setns {netns}: {Native.Error()}");
                try
                {
                    link = Open(name, loop, mtu);
                }
                finally
                {
                    Native.SetNs(self, Native.CLONE_NEWNET);
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
            finally
            {
                if (self >= 0) Native.Close(self);
                if (target >= 0) Native.Close(target);
            }
        });
        t.Start();
        t.Join();
        if (error is not null) throw error;
        link!.Namespace = netns;
        return link;
    }

    /// <summary>The namespace the device lives in, when made by <see cref="OpenInNamespace"/>.</summary>
    public string? Namespace { get; private set; }

    /// <summary>Gives the kernel side of the device an address and brings it up (runs iproute2's <c>ip</c>).</summary>
    public void Configure(string peerAddressWithPrefix)
    {
        RunIp($"addr add {peerAddressWithPrefix} dev {Name}");
        RunIp($"link set dev {Name} mtu {_mtu} up");
    }

    /// <summary>Takes the kernel side of the device down or up (a cable pulled, or put back).</summary>
    public void SetUp(bool up) => RunIp($"link set dev {Name} {(up ? "up" : "down")}");

    private void RunIp(string args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (Namespace is not null)
        {
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(Namespace);
        }
        foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException("cannot start ip (install iproute2)");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"ip {args}: {err.Trim()}");
    }

    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
    {
        fixed (byte* p = packet)
        {
            if (Native.Write(_fd, p, (nuint)packet.Length) < 0) WriteErrors++;
            else PacketsWritten++;
        }
    }

    private void ReadLoop()
    {
        var fds = stackalloc Native.PollFd[2];
        fds[0] = new Native.PollFd { Fd = _fd, Events = Native.POLLIN };
        fds[1] = new Native.PollFd { Fd = _wake, Events = Native.POLLIN };
        int size = Math.Max(_mtu, 2048);
        while (!_stopping)
        {
            fds[0].Revents = 0;
            fds[1].Revents = 0;
            int r = Native.Poll(fds, 2, 1000);
            if (r <= 0 || _stopping || (fds[1].Revents & Native.POLLIN) != 0) continue;
            if ((fds[0].Revents & Native.POLLIN) == 0) continue;
            var buf = ArrayPool<byte>.Shared.Rent(size);
            nint n;
            fixed (byte* b = buf) n = Native.Read(_fd, b, (nuint)buf.Length);
            if (n <= 0)
            {
                ArrayPool<byte>.Shared.Return(buf);
                continue;
            }
            PacketsRead++;
            int len = (int)n;
            _loop.Post(() =>
            {
                try
                {
                    _loop.Stack.Receive(buf.AsSpan(0, len), _loop.Now);
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buf);
                }
            });
        }
    }

    public void Dispose()
    {
        _stopping = true;
        ulong one = 1;
        Native.Write(_wake, (byte*)&one, 8);
        _reader.Join(TimeSpan.FromSeconds(5));
        Native.Close(_fd);
        Native.Close(_wake);
    }
}
