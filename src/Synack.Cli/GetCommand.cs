using System.CommandLine;
using System.Diagnostics;
using System.Security.Cryptography;
using Synack.AspNetCore;
using Synack.Stack;
using Synack.Tun;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>`synack get URL`: an HTTP GET (HttpClient) over the stack on a TUN device; prints status, bytes, SHA-256 and time.</summary>
internal static class GetCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var url = new Argument<string>("url") { Description = "http://ADDRESS[:PORT]/PATH (an IP address: there is no DNS here)" };
        var tun = new Option<string>("--tun") { Description = "TUN device to create in the current network namespace", Required = true };
        var address = new Option<string>("--address") { Description = "the stack's own address, e.g. 192.0.2.2", Required = true };
        var peer = new Option<string>("--peer") { Description = "the kernel side's address with prefix, e.g. 192.0.2.1/24", Required = true };
        var timeout = new Option<int>("--timeout") { Description = "seconds before giving up", DefaultValueFactory = _ => 300 };
        var cmd = new Command("get", "fetch a URL over the stack, with the kernel (or a server behind it) as the peer") { url, tun, address, peer, timeout };
        cmd.SetAction(async (parse, ct) =>
        {
            if (!Uri.TryCreate(parse.GetValue(url), UriKind.Absolute, out var uri) || uri.Scheme != "http" || !System.Net.IPAddress.TryParse(uri.Host.Trim('[', ']'), out var host))
            {
                error.WriteLine($"synack get: '{parse.GetValue(url)}' is not an http:// URL with an IP address");
                return 2;
            }
            if (!ServeCommand.TryAddress(parse.GetValue(address)!, out var addr, error)) return 2;
            NetworkStack stack;
            StackThread loop;
            TunLink link;
            try
            {
                stack = new NetworkStack(new StackOptions { Name = "synack", Addresses = [addr] });
                loop = new StackThread(stack);
                link = TunLink.Open(parse.GetValue(tun)!, loop);
                link.Configure(parse.GetValue(peer)!);
            }
            catch (Exception ex) when (ex is IOException or ArgumentException)
            {
                error.WriteLine($"synack get: {ex.Message}");
                return 1;
            }
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            cts.CancelAfter(TimeSpan.FromSeconds(parse.GetValue(timeout)));
            try
            {
                var sw = Stopwatch.StartNew();
                var (status, bytes, digest) = await Fetch(stack, IpAddr.FromIPAddress(host), (ushort)uri.Port, uri, cts.Token);
                sw.Stop();
                output.WriteLine($"status {status}, {bytes} bytes, sha256 {digest}, {sw.Elapsed.TotalSeconds:F3} s ({bytes / 1e6 / Math.Max(sw.Elapsed.TotalSeconds, 1e-9):F1} MB/s)");
                return status is >= 200 and < 300 ? 0 : 3;
            }
            catch (Exception e) when ((e as System.Net.Sockets.SocketException ?? e.InnerException as System.Net.Sockets.SocketException) is { } ex)
            {
                error.WriteLine($"synack get: {ex.SocketErrorCode}: {ex.Message}");
                return 1;
            }
            catch (OperationCanceledException)
            {
                error.WriteLine("synack get: timed out");
                return 1;
            }
            catch (Exception ex) when (ex is InvalidDataException or HttpRequestException or IOException)
            {
                error.WriteLine($"synack get: bad response: {ex.Message}");
                return 1;
            }
            finally
            {
                link.Dispose();
                loop.Dispose();
            }
        });
        return cmd;
    }

    /// <summary>The GET through HttpClient, its connections opened by the stack; the body hashed as it streams.</summary>
    private static async Task<(int Status, long Bytes, string Digest)> Fetch(NetworkStack stack, IpAddr host, ushort port, Uri uri, CancellationToken ct)
    {
        using var client = new HttpClient(SynackHttp.CreateHandler(stack)) { Timeout = Timeout.InfiniteTimeSpan };
        client.DefaultRequestHeaders.UserAgent.ParseAdd("synack");
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.ConnectionClose = true;
        using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await using var body = await response.Content.ReadAsStreamAsync(ct);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buf = new byte[256 * 1024];
        long got = 0;
        int n;
        while ((n = await body.ReadAsync(buf, ct)) > 0)
        {
            sha.AppendData(buf, 0, n);
            got += n;
        }
        if (response.Content.Headers.ContentLength is long expected && got != expected) throw new InvalidDataException($"got {got} of {expected} bytes");
        return ((int)response.StatusCode, got, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
