using Xunit.Abstractions;
using System.Diagnostics;
using Synack.Simulation;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// Application code that leaves the simulation's loop — a continuation after ConfigureAwait(false),
/// Stream.CopyToAsync (which uses it inside), Task.Run, a timer on the wall clock — either runs on
/// virtual time (with SettleThreadPool) or fails at once saying what escaped and how to fix it. It
/// used to hang until the virtual time limit, or pass on some seeds and not others, without a word.
/// </summary>
public sealed class LeavingTheLoopTests(ITestOutputHelper output)
{
    private const int Bytes = 200_000;

    /// <summary>A client sends <see cref="Bytes"/> bytes and reads them back from an echo that <paramref name="echo"/> runs.</summary>
    private static void EchoRun(SimulatedNetwork net, Func<TcpConnection, Task> echo)
    {
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5), Loss = 0.01, Seed = net.Seed }, client, server);
        var listener = TcpListener.Start(server, 7);
        net.Run(async () =>
        {
            var accepted = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 7);
            var s = await accepted;
            var echoing = echo(s);
            var data = new byte[Bytes];
            new Random(1).NextBytes(data);
            await c.WriteAsync(data);
            c.ShutdownSend();
            var back = new MemoryStream();
            var buffer = new byte[16384];
            int n;
            while ((n = await c.ReadAsync(buffer)) > 0) back.Write(buffer, 0, n);
            await echoing;
            Assert.True(back.ToArray().AsSpan().SequenceEqual(data));
            await c.CloseAsync();
        }, TimeSpan.FromMinutes(5));
    }

    private static async Task CopyEcho(TcpConnection s)
    {
        var stream = s.GetStream();
        await stream.CopyToAsync(stream);
        s.ShutdownSend();
    }

    private static async Task ConfigureAwaitFalseEcho(TcpConnection s)
    {
        var buffer = new byte[4096];
        int n;
        while ((n = await s.ReadAsync(buffer).ConfigureAwait(false)) > 0) await s.WriteAsync(buffer.AsMemory(0, n)).ConfigureAwait(false);
        s.ShutdownSend();
    }

    private static Task TaskRunEcho(TcpConnection s) => Task.Run(() => ConfigureAwaitFalseEcho(s));

    public static TheoryData<string> Escapes() => ["CopyToAsync", "Task.Run"];

    private static Func<TcpConnection, Task> Echo(string kind) => kind switch
    {
        "CopyToAsync" => CopyEcho,
        "ConfigureAwait(false)" => ConfigureAwaitFalseEcho,
        _ => TaskRunEcho,
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public void Code_that_leaves_the_loop_fails_at_once_naming_the_escape_and_the_fix(string kind)
    {
        var wall = Stopwatch.StartNew();
        var e = Record.Exception(() => EchoRun(new SimulatedNetwork(seed: 5), Echo(kind)));
        wall.Stop();
        Assert.NotNull(e);
        output.WriteLine(e.Message);
        Assert.Contains("SettleThreadPool = true", e.Message);
        Assert.Contains("thread", e.Message);
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(5), $"it took {wall.Elapsed} of wall time to say so");
    }

    /// <summary>
    /// ConfigureAwait(false) on the stack's own reads and writes does not leave: their completion runs the
    /// caller's continuation where the stack's wake-up ran, which in a simulation is the loop (as a
    /// pooled ValueTask source does), so the same code runs on virtual time without settling anything.
    /// </summary>
    [Theory]
    [InlineData(5)]
    [InlineData(6)]
    [InlineData(7)]
    public void ConfigureAwait_false_on_the_stacks_own_calls_stays_on_the_loop(int seed) =>
        EchoRun(new SimulatedNetwork(seed), ConfigureAwaitFalseEcho);

    [Theory]
    [MemberData(nameof(Escapes))]
    [InlineData("ConfigureAwait(false)")]
    public void With_the_thread_pool_settled_the_same_code_runs_on_virtual_time(string kind) =>
        EchoRun(new SimulatedNetwork(seed: 5) { SettleThreadPool = true }, Echo(kind));

    [Fact]
    public void A_wall_clock_delay_fails_at_once_saying_nothing_is_left_to_happen()
    {
        var net = new SimulatedNetwork(seed: 6);
        net.AddHost("host", "192.0.2.1");
        var wall = Stopwatch.StartNew();
        var e = Assert.Throws<SimulationStalledException>(() => net.Run(async () => await Task.Delay(TimeSpan.FromSeconds(3)), TimeSpan.FromHours(1)));
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(2), $"it took {wall.Elapsed} of wall time to say so"); // the loop waits 0.5 s at most for stragglers; slack for a loaded machine
        Assert.Contains("no event is pending", e.Message);
        Assert.Contains("net.TimeProvider", e.Message);
    }

    [Fact]
    public void A_delay_on_the_networks_clock_passes_in_no_wall_time()
    {
        var net = new SimulatedNetwork(seed: 6);
        var wall = Stopwatch.StartNew();
        net.Run(async () => await Task.Delay(TimeSpan.FromMinutes(10), net.TimeProvider), TimeSpan.FromHours(1));
        Assert.Equal(TimeSpan.FromMinutes(10), net.Now);
        Assert.True(wall.Elapsed < TimeSpan.FromSeconds(5));
    }
}
