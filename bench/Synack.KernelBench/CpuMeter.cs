using System.Globalization;

namespace Synack.KernelBench;

/// <summary>
/// What a piece of work cost in CPU: a server process's user and system time (its threads and its
/// children's, so nginx's worker counts) plus the whole machine's softirq time over the same interval.
/// Both stacks pay their kernel share there: the kernel's TCP receives in softirq, and so does the
/// kernel's side of our TUN device (its TCP receiving what we wrote, for the load generator). What the
/// load generator spends in user time is the same on both sides and not counted.
/// </summary>
internal readonly record struct CpuMeter(double ProcessSeconds, double SoftirqSeconds)
{
    // /proc reports in USER_HZ, 100 on every Linux that .NET runs on.
    private const double TicksPerSecond = 100;

    public double Seconds => ProcessSeconds + SoftirqSeconds;

    public static CpuMeter operator -(CpuMeter after, CpuMeter before) =>
        new(after.ProcessSeconds - before.ProcessSeconds, after.SoftirqSeconds - before.SoftirqSeconds);

    /// <summary>The counters now, for <paramref name="pid"/> and its children; null where /proc cannot say (not Linux).</summary>
    public static CpuMeter? Read(int pid)
    {
        try
        {
            double process = ProcessTicks(pid);
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (!int.TryParse(Path.GetFileName(dir), out int child) || child == pid) continue;
                if (StatFields(child) is { } f && f.Length > 1 && f[1] == pid.ToString(CultureInfo.InvariantCulture)) process += ProcessTicks(child);
            }
            return new CpuMeter(process / TicksPerSecond, SoftirqTicks() / TicksPerSecond);
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Runs <paramref name="work"/> and says what it cost <paramref name="pid"/> and the machine's softirq.</summary>
    public static (T Result, double CpuSeconds) Measure<T>(int pid, Func<T> work)
    {
        var before = Read(pid);
        var result = work();
        var after = Read(pid);
        return (result, before is { } b && after is { } a ? (a - b).Seconds : double.NaN);
    }

    // Fields of /proc/PID/stat after the command (which is in parentheses and may hold spaces): [0] state, [1] ppid, ... [11] utime, [12] stime.
    private static string[]? StatFields(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (IOException)
        {
            return null; // gone meanwhile
        }
        int close = text.LastIndexOf(')');
        return close < 0 ? null : text[(close + 2)..].Split(' ');
    }

    private static double ProcessTicks(int pid) =>
        StatFields(pid) is { Length: > 12 } f ? double.Parse(f[11], CultureInfo.InvariantCulture) + double.Parse(f[12], CultureInfo.InvariantCulture) : 0;

    private static double SoftirqTicks()
    {
        // "cpu  user nice system idle iowait irq softirq steal ...": the machine's total.
        var line = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return double.Parse(f[7], CultureInfo.InvariantCulture);
    }
}
