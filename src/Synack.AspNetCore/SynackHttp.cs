using System.Net;
using Synack.Stack;
using Synack.Wire;

namespace Synack.AspNetCore;

/// <summary>HttpClient over a Synack stack: SocketsHttpHandler with its connections opened by the stack.</summary>
public static class SynackHttp
{
    /// <summary>
    /// A handler whose connections go through <paramref name="stack"/>; pooling, keep-alive and
    /// <c>Connection: close</c> behave as on sockets. Hosts are IP literals unless
    /// <paramref name="resolve"/> maps names to addresses.
    /// </summary>
    public static SocketsHttpHandler CreateHandler(NetworkStack stack, Func<string, IpAddr>? resolve = null) => new()
    {
        UseProxy = false,
        ConnectCallback = async (context, cancellationToken) =>
        {
            var host = context.DnsEndPoint.Host;
            IpAddr address;
            if (resolve is not null) address = resolve(host);
            else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip)) address = IpAddr.FromIPAddress(ip);
            else throw new HttpRequestException($"'{host}' is not an IP address and no resolver was given to SynackHttp.CreateHandler");
            var connection = await TcpConnection.ConnectAsync(stack, address, (ushort)context.DnsEndPoint.Port, cancellationToken: cancellationToken);
            return connection.GetStream();
        },
    };
}
