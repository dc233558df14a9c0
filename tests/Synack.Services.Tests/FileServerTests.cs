using System.Security.Cryptography;
using System.Text;
using Synack.Services;
using Synack.Simulation;
using Synack.Stack;
using Synack.Wire;

namespace Synack.Services.Tests;

/// <summary>
/// <c>synack serve --files</c>: a static file server on the stack's sockets, talked to over the
/// simulated link with the raw bytes a client sends, so every answer is checked as it goes on the wire.
/// </summary>
public sealed class FileServerTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("synack-files-");
    private readonly string _root;
    private readonly byte[] _content = new byte[700_001];

    public FileServerTests()
    {
        _root = Directory.CreateDirectory(Path.Combine(_dir.FullName, "www")).FullName;
        new Random(7).NextBytes(_content);
        File.WriteAllBytes(Path.Combine(_root, "big.bin"), _content);
        Directory.CreateDirectory(Path.Combine(_root, "sub"));
        File.WriteAllText(Path.Combine(_root, "sub", "a b.txt"), "spaces");
        File.WriteAllText(Path.Combine(_dir.FullName, "secret.txt"), "outside the root");
    }

    public void Dispose() => _dir.Delete(recursive: true);

    /// <summary>Sends <paramref name="request"/> to a file server over the simulated link and returns every byte it answered until it closed.</summary>
    private byte[] Exchange(string request, bool clientCloses = false)
    {
        var net = new SimulatedNetwork(9);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Latency = TimeSpan.FromMilliseconds(2) }, client, server);
        var files = new FileServer(_root, idleTimeout: TimeSpan.FromSeconds(5));
        return net.Run(async () =>
        {
            var listener = TcpListener.Start(server, 8000);
            var serving = files.RunAsync(listener, CancellationToken.None);
            var c = await TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 8000);
            await c.WriteAsync(Encoding.ASCII.GetBytes(request));
            if (clientCloses) c.ShutdownSend();
            var all = new MemoryStream();
            var buf = new byte[64 * 1024];
            int n;
            while ((n = await c.ReadAsync(buf)) > 0) all.Write(buf, 0, n);
            listener.Stop();
            return all.ToArray();
        }, TimeSpan.FromMinutes(5));
    }

    /// <summary>The responses in <paramref name="wire"/>, each its status, headers and body (by Content-Length).</summary>
    private static List<(int Status, Dictionary<string, string> Headers, byte[] Body)> Responses(byte[] wire)
    {
        var list = new List<(int, Dictionary<string, string>, byte[])>();
        int at = 0;
        while (at < wire.Length)
        {
            int end = wire.AsSpan(at).IndexOf("\r\n\r\n"u8);
            Assert.True(end >= 0, "a response head without its end");
            var lines = Encoding.ASCII.GetString(wire, at, end).Split("\r\n");
            var status = int.Parse(lines[0].Split(' ')[1]);
            var headers = lines.Skip(1).Select(l => l.Split(": ", 2)).ToDictionary(p => p[0], p => p[1], StringComparer.OrdinalIgnoreCase);
            at += end + 4;
            int length = int.Parse(headers["Content-Length"]);
            var body = wire.AsSpan(at, Math.Min(length, wire.Length - at)).ToArray();
            list.Add((status, headers, body));
            at += body.Length;
        }
        return list;
    }

    [Fact]
    public void A_GET_of_a_file_brings_it_whole_with_its_length()
    {
        var (status, headers, body) = Assert.Single(Responses(Exchange("GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
        Assert.Equal(200, status);
        Assert.Equal(_content.Length.ToString(), headers["Content-Length"]);
        Assert.Equal("close", headers["Connection"]);
        Assert.Equal(SHA256.HashData(_content), SHA256.HashData(body));
    }

    [Fact]
    public void Two_pipelined_requests_are_answered_in_order_on_one_connection()
    {
        var rs = Responses(Exchange("GET /sub/a%20b.txt HTTP/1.1\r\nHost: x\r\n\r\nGET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\nConnection: close\r\n\r\n"));
        Assert.Equal(2, rs.Count);
        Assert.Equal((200, "spaces"), (rs[0].Status, Encoding.ASCII.GetString(rs[0].Body)));
        Assert.False(rs[0].Headers.ContainsKey("Connection"));
        Assert.Equal(206, rs[1].Status);
        Assert.Equal($"bytes 10-19/{_content.Length}", rs[1].Headers["Content-Range"]);
        Assert.Equal(_content.AsSpan(10, 10).ToArray(), rs[1].Body);
    }

    [Theory]
    [InlineData("bytes=-5", 700_001 - 5, 5)]
    [InlineData("bytes=700000-", 700_000, 1)]
    [InlineData("bytes=699990-800000", 699_990, 11)]
    public void A_range_brings_just_those_bytes(string range, int start, int count)
    {
        var (status, headers, body) = Assert.Single(Responses(Exchange($"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: {range}\r\nConnection: close\r\n\r\n")));
        Assert.Equal(206, status);
        Assert.Equal($"bytes {start}-{start + count - 1}/{_content.Length}", headers["Content-Range"]);
        Assert.Equal(_content.AsSpan(start, count).ToArray(), body);
    }

    [Fact]
    public void A_range_past_the_end_is_416_and_a_second_range_is_ignored()
    {
        var rs = Responses(Exchange("GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=800000-\r\n\r\nHEAD /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-1,5-6\r\nConnection: close\r\n\r\n"));
        Assert.Equal(416, rs[0].Status);
        Assert.Equal($"bytes */{_content.Length}", rs[0].Headers["Content-Range"]);
        // HEAD: the whole file's length and no body (it comes last, so the parser here finds none to read).
        Assert.Equal(2, rs.Count);
        Assert.Equal(200, rs[1].Status);
        Assert.Equal(_content.Length.ToString(), rs[1].Headers["Content-Length"]);
        Assert.Empty(rs[1].Body);
    }

    [Theory]
    [InlineData("/../secret.txt")]
    [InlineData("/%2e%2e/secret.txt")]
    [InlineData("/sub/../../secret.txt")]
    [InlineData("/sub")]
    [InlineData("/nothing-here")]
    [InlineData("/link-out")]
    public void Nothing_outside_the_root_and_no_directories_are_served(string path)
    {
        File.CreateSymbolicLink(Path.Combine(_root, "link-out"), Path.Combine(_dir.FullName, "secret.txt"));
        var (status, _, body) = Assert.Single(Responses(Exchange($"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")));
        Assert.Equal(404, status);
        Assert.DoesNotContain("outside", Encoding.ASCII.GetString(body));
    }

    [Theory]
    [InlineData("GET /big.bin HTTP/1.1\r\nConnection: close\r\n\r\n", 400)] // 1.1 without Host
    [InlineData("GET /big.bin HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400)]
    [InlineData("GET /big.bin HTTP/1.1\r\nHost : x\r\n\r\n", 400)]
    [InlineData("GET /big.bin HTTP/2.0\r\nHost: x\r\n\r\n", 400)]
    [InlineData("GET /big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400)]
    [InlineData("GET /big.bin HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n", 413)]
    [InlineData("POST /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 405)]
    public void A_malformed_or_unwanted_request_gets_its_error_status(string request, int expected)
    {
        var first = Responses(Exchange(request, clientCloses: true))[0];
        Assert.Equal(expected, first.Status);
    }

    [Fact]
    public void A_head_larger_than_the_limit_is_431_and_the_connection_closes()
    {
        var request = "GET /big.bin HTTP/1.1\r\nHost: x\r\nX-Filler: " + new string('a', FileServer.MaxHeaderBytes) + "\r\n\r\n";
        var (status, headers, _) = Assert.Single(Responses(Exchange(request)));
        Assert.Equal(431, status);
        Assert.Equal("close", headers["Connection"]);
    }

    [Fact]
    public void HTTP_1_0_closes_after_the_response_unless_asked_to_keep_alive()
    {
        var (status, headers, body) = Assert.Single(Responses(Exchange("GET /sub/a%20b.txt HTTP/1.0\r\n\r\n")));
        Assert.Equal((200, "spaces"), (status, Encoding.ASCII.GetString(body)));
        Assert.Equal("close", headers["Connection"]);
    }
}
