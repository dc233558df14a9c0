using System.Diagnostics;
using System.Text;

namespace Synack.Tun;

/// <summary>Opening a TUN device's file descriptor, in this namespace or another, and setting its kernel side up with iproute2.</summary>
internal static unsafe class TunDevice
{
    /// <summary>Opens (creating if needed) the TUN device <paramref name="name"/>: non-blocking, IFF_TUN | IFF_NO_PI and <paramref name="extraFlags"/>.</summary>
    public static int Open(string name, short extraFlags)
    {
        var nameBytes = Encoding.ASCII.GetBytes(name);
        if (nameBytes.Length is 0 or > 15) throw new ArgumentException("an interface name is 1 to 15 characters", nameof(name));
        int fd = Native.Open("/dev/net/tun", Native.O_RDWR | Native.O_CLOEXEC | Native.O_NONBLOCK);
        if (fd < 0) throw new IOException($"cannot open /dev/net/tun: {Native.Error()} (root or CAP_NET_ADMIN is needed)");
        byte* ifr = stackalloc byte[40];
        new Span<byte>(ifr, 40).Clear();
        nameBytes.CopyTo(new Span<byte>(ifr, 16));
        *(short*)(ifr + 16) = (short)(Native.IFF_TUN | Native.IFF_NO_PI | extraFlags);
        if (Native.Ioctl(fd, Native.TUNSETIFF, ifr) < 0)
        {
            var err = Native.Error();
            Native.Close(fd);
            throw new IOException($"TUNSETIFF {name}: {err}");
        }
        return fd;
    }

    /// <summary>
    /// Runs <paramref name="open"/> inside the named network namespace (as made by <c>ip netns add</c>)
    /// without moving this process there: a helper thread enters the namespace, opens and leaves. A
    /// device created there never exists in the caller's namespace; its descriptor works from anywhere.
    /// </summary>
    public static T InNamespace<T>(string netns, Func<T> open)
    {
        T? opened = default;
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
                    opened = open();
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
        return opened!;
    }

    /// <summary>Runs iproute2's <c>ip</c> (in <paramref name="netns"/> when given); a failure throws with what it said.</summary>
    public static void RunIp(string? netns, string args)
    {
        var psi = new ProcessStartInfo("ip") { RedirectStandardError = true, RedirectStandardOutput = true };
        if (netns is not null)
        {
            psi.ArgumentList.Add("-n");
            psi.ArgumentList.Add(netns);
        }
        foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi) ?? throw new IOException("cannot start ip (install iproute2)");
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        if (p.ExitCode != 0) throw new IOException($"ip {args}: {err.Trim()}");
    }
}
