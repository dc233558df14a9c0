using System.Security.Cryptography;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// The buffer budget (Linux's tcp_mem): applications that stop reading fill their receive buffers
/// until the stack is under pressure and then out of memory; a newcomer's data is then dropped
/// unacknowledged rather than given memory the stack does not have, and arrives whole once the
/// readers read again. The buffers never hold more than the budget and one buffer.
/// </summary>
public sealed class MemoryBudgetTests
{
    [Fact]
    public void Past_the_budget_a_newcomer_waits_for_memory_and_then_gets_every_byte()
    {
        const int Buffer = 256 * 1024;
        var net = new SimulatedNetwork(30);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost(new StackOptions
        {
            Name = "server",
            Addresses = [IpAddr.Parse("192.0.2.2")],
            BufferMemoryLimit = 4 * Buffer,
            Connection = ConnectionOptions.Default with { ReceiveBufferSize = Buffer, ReceiveBufferMax = null },
        });
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5) }, client, server);
        var listener = TcpListener.Start(server, 80);
        var data = Enumerable.Range(0, 5).Select(_ => RandomNumberGenerator.GetBytes(400_000)).ToArray();
        var (clients, servers) = net.Run(async () =>
        {
            var cs = new List<TcpConnection>();
            var ss = new List<TcpConnection>();
            for (int i = 0; i < 5; i++)
            {
                var accept = listener.AcceptAsync();
                cs.Add(await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 80));
                ss.Add(await accept);
            }
            return (cs, ss);
        }, TimeSpan.FromSeconds(10));
        // Four writers fill the four receive buffers nobody reads: the budget is spent.
        var writes = new List<Task>();
        net.Run(async () =>
        {
            for (int i = 0; i < 4; i++) writes.Add(clients[i].WriteAsync(data[i]).AsTask());
            await Task.Yield();
        }, TimeSpan.FromSeconds(1));
        net.RunFor(TimeSpan.FromSeconds(5));
        Assert.Equal(MemoryPressure.Exhausted, server.Pressure);
        Assert.True(server.Statistics.MemoryPressureEntered >= 1);

        // The fifth: its data finds no memory, is dropped unacknowledged, and waits.
        net.Run(async () =>
        {
            writes.Add(clients[4].WriteAsync(data[4]).AsTask());
            await Task.Yield();
        }, TimeSpan.FromSeconds(1));
        net.RunFor(TimeSpan.FromSeconds(5));
        Assert.True(server.Statistics.MemoryRefusals > 0);
        Assert.Equal(0, servers[4].Protocol.ReceiveQueued);

        // The readers read: memory comes back, and every byte of all five arrives.
        var got = net.Run(async () =>
        {
            var reads = servers.Select((s, i) => Reads.Exactly(s, data[i].Length)).ToArray();
            return await Task.WhenAll(reads);
        }, TimeSpan.FromMinutes(10));
        for (int i = 0; i < 5; i++) Assert.True(data[i].AsSpan().SequenceEqual(got[i]), $"connection {i}");
        Assert.True(server.Statistics.BufferBytesPeak <= 5 * Buffer, $"peak {server.Statistics.BufferBytesPeak} bytes");
        net.RunFor(TimeSpan.FromSeconds(1));
        Assert.Equal(MemoryPressure.None, server.Pressure);
    }
}
