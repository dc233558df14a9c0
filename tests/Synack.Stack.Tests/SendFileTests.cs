using System.Net.Sockets;
using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// sendfile(): the stack reads a file straight into its send buffer as acknowledgments free it. The
/// whole file arrives, at the offset asked for, in order with the writes around it; a file shorter
/// than the count, a reset and a cancel each end it with their own error.
/// </summary>
public sealed class SendFileTests : IDisposable
{
    private readonly string _path = Path.Combine(Path.GetTempPath(), $"synack-sendfile-{Guid.NewGuid():N}");
    private readonly byte[] _content;

    public SendFileTests()
    {
        _content = new byte[3 * 1024 * 1024 + 123];
        new Random(11).NextBytes(_content);
        File.WriteAllBytes(_path, _content);
    }

    public void Dispose() => File.Delete(_path);

    /// <summary>Runs <paramref name="scenario"/> on a connection between two hosts 5 ms apart, with 64 KiB send buffers.</summary>
    private static T Connected<T>(Func<TcpConnection, TcpConnection, Task<T>> scenario, double loss = 0)
    {
        var options = ConnectionOptions.Default with { SendBufferSize = 64 * 1024, SendBufferMax = null };
        var net = new SimulatedNetwork(5);
        var client = net.AddHost("client", "192.0.2.1", options);
        var server = net.AddHost("server", "192.0.2.2", options);
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5), Loss = loss, Seed = 5 }, client, server);
        return net.Run(async () =>
        {
            var listener = TcpListener.Start(server, 80);
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80);
            return await scenario(c, await accept);
        }, TimeSpan.FromMinutes(10));
    }

    [Fact]
    public void A_file_many_times_the_send_buffer_arrives_whole_across_a_lossy_link()
    {
        var received = Connected(async (c, s) =>
        {
            var reading = Reads.ToEnd(c);
            await s.SendFileAsync(_path);
            await s.CloseAsync();
            return await reading;
        }, loss: 0.01);
        Assert.Equal(SHA256.HashData(_content), SHA256.HashData(received));
    }

    [Fact]
    public void A_range_of_the_file_goes_between_the_writes_before_and_after_it_in_order()
    {
        var received = Connected(async (c, s) =>
        {
            var reading = Reads.ToEnd(c);
            using var file = File.OpenHandle(_path);
            await s.WriteAsync("head:"u8.ToArray());
            var sending = s.SendFileAsync(file, 1000, 500_000);
            var after = s.WriteAsync(":tail"u8.ToArray()); // waits behind the file
            await sending;
            await after;
            await s.CloseAsync();
            return await reading;
        });
        byte[] expected = [.. "head:"u8, .. _content.AsSpan(1000, 500_000), .. ":tail"u8];
        Assert.Equal(expected.Length, received.Length);
        Assert.True(expected.AsSpan().SequenceEqual(received));
    }

    [Fact]
    public void A_file_shorter_than_the_count_fails_the_send_with_end_of_file_and_keeps_what_was_read()
    {
        var (error, received) = Connected(async (c, s) =>
        {
            var reading = Reads.ToEnd(c);
            using var file = File.OpenHandle(_path);
            var error = await Record.ExceptionAsync(() => s.SendFileAsync(file, _content.Length - 1000, 5000));
            await s.CloseAsync();
            return (error, await reading);
        });
        Assert.IsType<EndOfStreamException>(error);
        Assert.True(_content.AsSpan(_content.Length - 1000).SequenceEqual(received));
    }

    [Fact]
    public void A_reset_from_the_peer_fails_the_send_with_connection_reset()
    {
        var error = Connected(async (c, s) =>
        {
            var sending = s.SendFileAsync(_path); // the client reads nothing: the file waits on a closed window
            var buf = new byte[1000];
            await c.ReadAsync(buf);
            c.Abort();
            return await Record.ExceptionAsync(() => sending);
        });
        Assert.Equal(SocketError.ConnectionReset, Assert.IsType<SocketException>(error).SocketErrorCode);
    }

    [Fact]
    public void Cancelling_stops_the_reading_and_the_connection_goes_on()
    {
        var (cancelled, tail, received) = Connected(async (c, s) =>
        {
            using var cts = new CancellationTokenSource();
            var sending = s.SendFileAsync(_path, cts.Token); // nobody reads yet: it stops with the window
            var first = new byte[100];
            int got = await c.ReadAsync(first);
            cts.Cancel();
            var cancelled = await Record.ExceptionAsync(() => sending);
            await s.WriteAsync("tail"u8.ToArray());
            await s.CloseAsync();
            var rest = await Reads.ToEnd(c);
            return (cancelled, rest.AsSpan(rest.Length - 4).ToArray(), got + rest.Length);
        });
        Assert.IsAssignableFrom<OperationCanceledException>(cancelled);
        Assert.Equal("tail"u8.ToArray(), tail);
        Assert.True(received < _content.Length, $"{received} bytes: the cancel came after the whole file");
    }

    [Fact]
    public void A_second_send_file_while_one_runs_is_refused()
    {
        var error = Connected(async (c, s) =>
        {
            var first = s.SendFileAsync(_path);
            var error = await Record.ExceptionAsync(() => s.SendFileAsync(_path));
            c.Abort();
            await Record.ExceptionAsync(() => first);
            return error;
        });
        Assert.Equal(SocketError.AlreadyInProgress, Assert.IsType<SocketException>(error).SocketErrorCode);
    }
}
