using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

public class ConnectionTableTests
{
    private sealed class NoHost : IConnectionHost
    {
        public void Transmit(Connection connection, in TcpHeader header, ReadOnlySpan<byte> payload, TcpOptionLayout layout) { }
        public void StateChanged(Connection connection, TcpState from, TcpState to, string cause) { }
        public void Notify(Connection connection, ConnectionEvent e, TcpError error) { }
        public void TimerFired(Connection connection, TcpTimer timer) { }
    }

    private static readonly IpAddr Server = IpAddr.Parse("192.0.2.1");
    private static readonly IpAddr ServerV6 = IpAddr.Parse("2001:db8::1");

    private static StackConnection Entry(FourTuple tuple) =>
        new() { Connection = new Connection(tuple, null, new FixedIsnGenerator(1), new NoHost()) };

    private static FourTuple Tuple(int i) =>
        i % 3 == 0
            ? new FourTuple(ServerV6, 80, IpAddr.Parse($"2001:db8::{i % 9000 + 2:x}"), (ushort)(1024 + i / 9000))
            : new FourTuple(Server, 80, IpAddr.Parse($"198.51.100.{i % 200 + 2}"), (ushort)(1024 + i / 200));

    [Fact]
    public void Lookups_find_every_connection_through_growth_and_removal_and_nothing_else()
    {
        var table = new ConnectionTable();
        var all = Enumerable.Range(0, 20_000).Select(i => Entry(Tuple(i))).ToArray();
        foreach (var sc in all) table.Add(sc);
        Assert.Equal(all.Length, table.Count);
        foreach (var sc in all)
        {
            Assert.True(table.TryGet(sc.Connection.Tuple, out var found));
            Assert.Same(sc, found);
        }

        for (int i = 0; i < all.Length; i += 2) Assert.True(table.Remove(all[i]));
        Assert.Equal(all.Length / 2, table.Count);
        for (int i = 0; i < all.Length; i++)
        {
            bool present = table.TryGet(all[i].Connection.Tuple, out var found);
            Assert.Equal(i % 2 == 1, present);
            if (present) Assert.Same(all[i], found);
        }
        Assert.False(table.Contains(Tuple(20_001)));
        Assert.Equal(all.Length / 2, table.ToList().Count);
    }

    [Fact]
    public void Remove_takes_only_the_very_connection_and_a_tuple_cannot_be_added_twice()
    {
        var table = new ConnectionTable();
        var tuple = Tuple(7);
        var first = Entry(tuple);
        table.Add(first);
        Assert.Throws<InvalidOperationException>(() => table.Add(Entry(tuple)));
        var other = Entry(tuple); // the same tuple, another connection: not the one in the table
        Assert.False(table.Remove(other));
        Assert.Equal(1, table.Count);
        Assert.True(table.Remove(first));
        Assert.False(table.Remove(first));
        Assert.Equal(0, table.Count);
        table.Add(other);
        Assert.True(table.TryGet(tuple, out var found));
        Assert.Same(other, found);
    }

    [Fact]
    public void The_tuple_compares_every_field_and_survives_with()
    {
        var a = new FourTuple(Server, 80, IpAddr.Parse("198.51.100.2"), 40000);
        Assert.Equal(a, new FourTuple(Server, 80, IpAddr.Parse("198.51.100.2"), 40000));
        Assert.NotEqual(a, a with { RemotePort = 40001 });
        Assert.NotEqual(a, a with { LocalPort = 81 });
        Assert.NotEqual(a, a with { RemoteAddress = IpAddr.Parse("198.51.100.3") });
        // ::c633:6402 holds the same 32 bits as 198.51.100.2; the family still tells them apart.
        Assert.NotEqual(a, a with { RemoteAddress = IpAddr.Parse("::c633:6402") });
        Assert.Equal(IpAddr.Parse("198.51.100.3"), (a with { RemoteAddress = IpAddr.Parse("198.51.100.3") }).RemoteAddress);
        Assert.Equal(a, a.Reversed.Reversed);
        Assert.Equal("192.0.2.1:80 <-> 198.51.100.2:40000", a.ToString());
    }
}
