using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Synack.Stack;
using Synack.Tun;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>`synack get URL`: an HTTP/1.1 GET over the stack on a TUN device; prints status, bytes, SHA-256 and time.</summary>
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
            catch (InvalidDataException ex)
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

    private static async Task<(int Status, long Bytes, string Digest)> Fetch(NetworkStack stack, IpAddr host, ushort port, Uri uri, CancellationToken ct)
    {
        var conn = await TcpConnection.ConnectAsync(stack, host, port, null, ct);
        var stream = conn.GetStream();
        var request = $"GET {uri.PathAndQuery} HTTP/1.1\r\nHost: {uri.Authority}\r\nUser-Agent: synack\r\nConnection: close\r\n\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), ct);
        var buf = new byte[256 * 1024];
        int have = 0, end;
        while ((end = buf.AsSpan(0, have).IndexOf("\r\n\r\n"u8)) < 0)
        {
            if (have == buf.Length) throw new InvalidDataException("header larger than 256 KiB");
            int n = await stream.ReadAsync(buf.AsMemory(have), ct);
            if (n == 0) throw new InvalidDataException("connection closed before the header ended");
            have += n;
        }
        var lines = Encoding.ASCII.GetString(buf, 0, end).Split("\r\n");
        var first = lines[0].Split(' ');
        if (first.Length < 2 || !int.TryParse(first[1], NumberStyles.None, CultureInfo.InvariantCulture, out int status)) throw new InvalidDataException($"status line '{lines[0]}'");
        long? length = null;
        foreach (var l in lines.Skip(1))
        {
            int colon = l.IndexOf(':');
            if (colon > 0 && l[..colon].Trim().Equals("content-length", StringComparison.OrdinalIgnoreCase)) length = long.Parse(l[(colon + 1)..].Trim(), CultureInfo.InvariantCulture);
        }
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long got = have - (end + 4);
        sha.AppendData(buf, end + 4, (int)got);
        while (length is null || got < length)
        {
            int n = await stream.ReadAsync(buf, ct);
            if (n == 0) break;
            sha.AppendData(buf, 0, n);
            got += n;
        }
        if (length is long expected && got != expected) throw new InvalidDataException($"got {got} of {expected} bytes");
        await conn.CloseAsync(TimeSpan.FromSeconds(5), CancellationToken.None);
        return (status, got, Convert.ToHexStringLower(sha.GetHashAndReset()));
    }
}
