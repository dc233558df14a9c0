using System.Text;
using Synack.Services;
using Synack.Simulation;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Services.Tests;

/// <summary>
/// Slowloris: clients that open connections and send nothing. The listener's limit caps what they
/// hold (each about a kilobyte), the file server's idle timeout lets them go, and a real client is
/// served once they have.
/// </summary>
public sealed class SlowlorisTests : IDisposable
{
    private readonly DirectoryInfo _root = Directory.CreateTempSubdirectory("synack-slowloris-");

    public void Dispose() => _root.Delete(recursive: true);

    [Fact]
    public void Silent_connections_are_capped_then_timed_out_and_a_real_client_gets_its_page()
    {
        File.WriteAllText(Path.Combine(_root.FullName, "index.html"), "hello");
        var net = new SimulatedNetwork(12);
        var clients = Enumerable.Range(1, 4).Select(i => net.AddHost($"loris{i}", $"198.51.100.{i}")).ToArray();
        var real = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost(new StackOptions { Name = "server", Addresses = [IpAddr.Parse("192.0.2.2")], MaxConnectionsPerListener = 500 });
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(5) }, [server, real, .. clients]);
        var files = new FileServer(_root.FullName, idleTimeout: TimeSpan.FromSeconds(10));
        var listener = TcpListener.Start(server, 8000, backlog: 1024);
        var silent = new List<TcpSocket>();
        net.Run(async () =>
        {
            _ = files.RunAsync(listener, CancellationToken.None);
            await Task.Yield();
        }, TimeSpan.FromSeconds(1));
        foreach (var host in clients)
        {
            for (int i = 0; i < 150; i++) // 600 in all, for 500 places
            {
                var s = TcpSocket.Create(host);
                net.Invoke(() => s.Connect(IpAddr.Parse("192.0.2.2"), 8000));
                silent.Add(s);
            }
        }
        net.RunFor(TimeSpan.FromSeconds(2));
        Assert.Equal(500, server.ConnectionCount); // the listener's limit, and no more
        Assert.True(server.Statistics.Dropped(DropReason.ConnectionLimit) > 0);

        net.RunFor(TimeSpan.FromSeconds(30)); // the server's idle timeout (10 s) and lingering close (10 s) let the silent ones go
        var page = net.Run(async () =>
        {
            var c = await TcpConnection.ConnectAsync(real, IpAddr.Parse("192.0.2.2"), 8000);
            await c.WriteAsync(Encoding.ASCII.GetBytes("GET /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
            var all = new MemoryStream();
            var buf = new byte[4096];
            int n;
            while ((n = await c.ReadAsync(buf)) > 0) all.Write(buf, 0, n);
            return Encoding.ASCII.GetString(all.ToArray());
        }, TimeSpan.FromMinutes(1));
        Assert.StartsWith("HTTP/1.1 200 OK", page);
        Assert.EndsWith("hello", page);
    }
}
