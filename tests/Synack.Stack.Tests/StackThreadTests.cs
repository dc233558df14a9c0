using System.Security.Cryptography;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>The same stack and socket API on real threads and the real clock (what the TUN device will use).</summary>
public class StackThreadTests
{
    private static NetworkStack Host(string name, string address) =>
        new(new StackOptions { Name = name, Addresses = [IpAddr.Parse(address)] });

    [Fact]
    public async Task Two_stacks_on_their_own_threads_move_a_megabyte_and_close()
    {
        using var clientThread = new StackThread(Host("client", "192.0.2.1"));
        using var serverThread = new StackThread(Host("server", "192.0.2.2"));
        var link = new ThreadLink();
        link.Attach(clientThread);
        link.Attach(serverThread);
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
        clientThread.Invoke(() => tw = clientThread.Stack.TimeWaitCount);
        Assert.Equal(1, tw); // the client shut down first
    }

    [Fact]
    public async Task The_pipe_and_the_stream_are_the_same_connection()
    {
        using var clientThread = new StackThread(Host("client", "192.0.2.1"));
        using var serverThread = new StackThread(Host("server", "192.0.2.2"));
        var link = new ThreadLink();
        link.Attach(clientThread);
        link.Attach(serverThread);
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
        using var clientThread = new StackThread(Host("client", "192.0.2.1"));
        using var serverThread = new StackThread(Host("server", "192.0.2.2"));
        var link = new ThreadLink();
        link.Attach(clientThread);
        link.Attach(serverThread);
        var tap = new CaptureTap(new MemoryStream());
        serverThread.Invoke(() => tap.Attach(serverThread.Stack));
        tap.Dispose();
        // A SYN to a closed port: the server's input is processed (and would be captured) after the dispose.
        var ex = Record.Exception(() => TcpConnection.ConnectAsync(clientThread.Stack, IpAddr.Parse("192.0.2.2"), 9).GetAwaiter().GetResult());
        Assert.IsType<System.Net.Sockets.SocketException>(ex);
        Assert.Equal(0, serverThread.Faults);
        Assert.Equal(0, tap.PacketsWritten);
    }
}
