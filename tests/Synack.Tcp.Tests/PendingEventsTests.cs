namespace Synack.Tcp.Tests;

public class PendingEventsTests
{
    [Fact]
    public void Events_come_out_in_the_order_they_went_in_inline_or_spilled()
    {
        var q = new PendingEvents();
        var all = new (ConnectionEvent, TcpError)[]
        {
            (ConnectionEvent.Connected, TcpError.None),
            (ConnectionEvent.DataReadable, TcpError.None),
            (ConnectionEvent.Closed, TcpError.ConnectionReset),
            (ConnectionEvent.SendSpaceAvailable, TcpError.None),
        };
        foreach (var (e, error) in all) q.Enqueue(e, error);
        foreach (var expected in all)
        {
            Assert.True(q.TryDequeue(out var item));
            Assert.Equal(expected, item);
        }
        Assert.False(q.TryDequeue(out _));
    }

    [Fact]
    public void Every_event_and_error_fits_the_byte_an_inline_slot_keeps()
    {
        Assert.All(Enum.GetValues<ConnectionEvent>(), e => Assert.InRange((int)e, 0, 255));
        Assert.All(Enum.GetValues<TcpError>(), e => Assert.InRange((int)e, 0, 255));
    }
}
