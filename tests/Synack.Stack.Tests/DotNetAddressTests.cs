using System.Net;
using Synack.Simulation;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>
/// The socket API takes what a .NET developer has at hand — <see cref="IPAddress"/>, <see cref="IPEndPoint"/>,
/// <c>int</c> ports — and says clearly when a port cannot be one.
/// </summary>
public sealed class DotNetAddressTests
{
    [Fact]
    public void A_host_a_listener_and_a_connection_take_ipaddress_ipendpoint_and_int_ports()
    {
        var net = new SimulatedNetwork(seed: 2);
        var client = net.AddHost("client", IPAddress.Parse("2001:db8::1"));
        var server = net.AddHost("server", IPAddress.Parse("2001:db8::2"));
        net.Connect(new LinkConditions(), client, server);
        int port = 8080;
        var listener = TcpListener.Start(server, port, address: IPAddress.Parse("2001:db8::2"));
        var (byAddress, byEndPoint) = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var a = await TcpConnection.ConnectAsync(client, IPAddress.Parse("2001:db8::2"), port);
            await accept;
            var accept2 = listener.AcceptAsync();
            var b = await TcpConnection.ConnectAsync(client, new IPEndPoint(IPAddress.Parse("2001:db8::2"), port));
            await accept2;
            return (a.Tuple, b.Tuple);
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(IpAddr.Parse("2001:db8::2"), byAddress.RemoteAddress);
        Assert.Equal((ushort)8080, byEndPoint.RemotePort);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65536)]
    [InlineData(-1)]
    public void A_port_outside_1_to_65535_is_refused_by_name(int port)
    {
        var net = new SimulatedNetwork(seed: 2);
        var host = net.AddHost("host", "192.0.2.1");
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TcpListener.Start(host, port));
        Assert.Equal("port", e.ParamName);
        Assert.Contains("1..65535", e.Message);
    }

    [Fact]
    public void An_address_literal_connects_and_a_host_name_is_refused_with_the_reason()
    {
        var net = new SimulatedNetwork(seed: 2);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        var listener = TcpListener.Start(server, 7);
        var tuple = net.Run(async () =>
        {
            var accept = listener.AcceptAsync();
            var c = await TcpConnection.ConnectAsync(client, "192.0.2.2", 7);
            await accept;
            return c.Tuple;
        }, TimeSpan.FromSeconds(5));
        Assert.Equal(IpAddr.Parse("192.0.2.2"), tuple.RemoteAddress);

        var e = Assert.Throws<ArgumentException>(() => { _ = TcpConnection.ConnectAsync(client, "inventory.example", 80); });
        Assert.Equal("address", e.ParamName);
        Assert.Contains("no DNS resolver", e.Message);
    }
}
