namespace Synack.Tcp.Tests;

/// <summary>The events of one input come out in the order raised, however many spill past the two inline slots.</summary>
public class PendingEventsTests
{
    [Fact]
    public void Events_come_out_first_in_first_out_across_the_inline_slots_and_the_overflow()
    {
        var q = new PendingEvents();
        var raised = new List<ConnectionEvent>();
        var delivered = new List<ConnectionEvent>();
        var kinds = Enum.GetValues<ConnectionEvent>();
        for (int round = 0; round < 50; round++)
        {
            // Interleave: some in, some out, so the inline ring wraps while the overflow holds the rest.
            for (int i = 0; i < round % 5 + 1; i++)
            {
                var e = kinds[(round + i) % kinds.Length];
                q.Enqueue(e, TcpError.None);
                raised.Add(e);
            }
            for (int i = 0; i < round % 3 && q.TryDequeue(out var item); i++) delivered.Add(item.Event);
        }
        while (q.TryDequeue(out var item)) delivered.Add(item.Event);
        Assert.Equal(raised, delivered);
        Assert.False(q.TryDequeue(out _));
    }
}
