using System.Security.Cryptography;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>The same stack and socket API on real threads and the real clock (what the TUN device will use).</summary>
public class StackThreadTests
{
    private static NetworkStack Host(string name, string address) =>
        new(new StackOptions { Name = name, Addresses = [IpAddr.Parse(address)] });

    private static (StackThread Client, StackThread Server) Linked() => LinkedThreads.Pair();

    [Fact]
    public async Task Two_stacks_on_their_own_threads_move_a_megabyte_and_close()
    {
        var (clientThread, serverThread) = Linked();
        using var _ = clientThread;
        using var __ = serverThread;
        var data = new byte[1 << 20];
        new Random(3).NextBytes(data);

        var listener = TcpListener.Start(serverThread.Stack, 80);
        var serverSide = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            var ms = new MemoryStream();
            var buf = new byte[65536];
            int n;
            while ((n = await s.ReadAsync(buf)) > 0) ms.Write(buf, 0, n);
            await s.CloseAsync();
            return ms.ToArray();
        });
        var c = await TcpConnection.ConnectAsync(clientThread.Stack, IpAddr.Parse("192.0.2.2"), 80).WaitAsync(TimeSpan.FromSeconds(10));
        var stream = c.GetStream();
        await stream.WriteAsync(data).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        c.ShutdownSend();
        var received = await serverSide.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(received));
        Assert.Equal(0, await c.ReadAsync(new byte[1]).AsTask().WaitAsync(TimeSpan.FromSeconds(10)));
        await c.CloseAsync().WaitAsync(TimeSpan.FromSeconds(10));
        int tw = 0;
        string seen = "";
        clientThread.Invoke(() =>
        {
            tw = clientThread.Stack.TimeWaitCount;
            seen = string.Join("; ", clientThread.Stack.Snapshot()) + $"; {clientThread.Stack.Statistics}";
        });
        Assert.True(tw == 1, $"the client shut down first, so TIME-WAIT is its: {seen}");
    }

    [Fact]
    public async Task The_pipe_and_the_stream_are_the_same_connection()
    {
        var (clientThread, serverThread) = Linked();
        using var _ = clientThread;
        using var __ = serverThread;
        var listener = TcpListener.Start(serverThread.Stack, 7);
        var echo = Task.Run(async () =>
        {
            var s = await listener.AcceptAsync();
            var pipe = s.Pipe;
            while (true)
            {
                var r = await pipe.Input.ReadAsync();
                foreach (var seg in r.Buffer) await pipe.Output.WriteAsync(seg);
                pipe.Input.AdvanceTo(r.Buffer.End);
                if (r.IsCompleted) break;
            }
            await s.CloseAsync();
        });
        var c = await TcpConnection.ConnectAsync(clientThread.Stack, IpAddr.Parse("192.0.2.2"), 7).WaitAsync(TimeSpan.FromSeconds(10));
        var stream = c.GetStream();
        await stream.WriteAsync("hello, pipe"u8.ToArray());
        c.ShutdownSend();
        var back = new MemoryStream();
        await stream.CopyToAsync(back).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal("hello, pipe", System.Text.Encoding.ASCII.GetString(back.ToArray()));
        await echo.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Work_that_throws_is_counted_and_the_loop_goes_on()
    {
        using var thread = new StackThread(Host("host", "192.0.2.1"));
        thread.Post(() => throw new InvalidOperationException("a failing observer"));
        int ran = 0;
        thread.Invoke(() => ran++); // queued behind the failure: the loop must still be there to run it
        Assert.Equal(1, ran);
        Assert.Equal(1, thread.Faults);
        Assert.Equal("a failing observer", thread.LastFault!.Message);
    }

    [Fact]
    public void A_capture_closed_while_packets_still_arrive_stops_capturing_instead_of_failing()
    {
        var (clientThread, serverThread) = Linked();
        using var _ = clientThread;
        using var __ = serverThread;
        var tap = new CaptureTap(new MemoryStream());
        serverThread.Invoke(() => tap.Attach(serverThread.Stack));
        tap.Dispose();
        // A SYN to a closed port: the server's input is processed (and would be captured) after the dispose.
        var ex = Record.Exception(() => TcpConnection.ConnectAsync(clientThread.Stack, IpAddr.Parse("192.0.2.2"), 9).GetAwaiter().GetResult());
        Assert.IsType<System.Net.Sockets.SocketException>(ex);
        Assert.Equal(0, serverThread.Faults);
        Assert.Equal(0, tap.PacketsWritten);
    }

    [Fact]
    public void Work_posted_by_the_thread_that_holds_the_stack_runs_before_the_call_returns()
    {
        using var thread = new StackThread(Host("host", "192.0.2.1"));
        int ran = 0, seenInside = -1;
        thread.Invoke(() =>
        {
            thread.Post(() => ran++); // a packet the stack's own output brought back, say
            seenInside = ran;
        });
        Assert.Equal(0, seenInside); // not run re-entrantly, inside the call that posted it
        Assert.Equal(1, ran); // but before the call gave the stack up
    }

    [Fact]
    public async Task Sixteen_threads_of_short_connections_across_a_thread_link_fault_nothing_and_leave_nothing()
    {
        // Two stacks hand each other packets on whichever thread holds the sender, each taking the
        // other's lock only when it is free: many threads at once must neither deadlock nor trip
        // over one another's batches (a receiver run inline sends into the same thread's outbox).
        var (clientThread, serverThread) = Linked();
        using var _ = clientThread;
        using var __ = serverThread;
        var listener = TcpListener.Start(serverThread.Stack, 80, 1024);
        const int Workers = 16, Each = 150;
        var handlers = new System.Collections.Concurrent.ConcurrentBag<Task>();
        using var stop = new CancellationTokenSource();
        var serving = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    var c = await listener.AcceptAsync(stop.Token);
                    handlers.Add(Task.Run(async () =>
                    {
                        var one = new byte[1];
                        try
                        {
                            if (await c.ReadAsync(one) == 1) await c.WriteAsync(one);
                            while (await c.ReadAsync(one) > 0) { }
                        }
                        catch (System.Net.Sockets.SocketException)
                        {
                            // the client's abort
                        }
                        await c.DisposeAsync();
                    }));
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await Task.WhenAll(Enumerable.Range(0, Workers).Select(_ => Task.Run(async () =>
        {
            var one = new byte[1];
            for (int i = 0; i < Each; i++)
            {
                var c = await TcpConnection.ConnectAsync(clientThread.Stack, IpAddr.Parse("192.0.2.2"), 80);
                await c.WriteAsync(one);
                Assert.Equal(1, await c.ReadAsync(one));
                c.Abort();
            }
        }))).WaitAsync(TimeSpan.FromSeconds(60));
        stop.Cancel();
        await serving.WaitAsync(TimeSpan.FromSeconds(10));
        await Task.WhenAll(handlers).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Workers * Each, handlers.Count);
        Assert.Equal(0, clientThread.Faults);
        Assert.Equal(0, serverThread.Faults);
        int left = -1;
        clientThread.Invoke(() => left = clientThread.Stack.ConnectionCount);
        Assert.Equal(0, left);
        serverThread.Invoke(() => left = serverThread.Stack.ConnectionCount);
        Assert.Equal(0, left);
    }
}
