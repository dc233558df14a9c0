using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack.Tests;

/// <summary>The packed TIME-WAIT table: found by tuple, never expired early, restarted by a FIN, emptied whole.</summary>
public class TimeWaitTableTests
{
    private static readonly IpAddr Local = IpAddr.Parse("192.0.2.1");
    private static readonly TimeSpan Msl = TimeSpan.FromSeconds(30);

    private static TimeWaitState Entry(int n, TimeSpan enteredAt, ConnectionOptions? options = null)
    {
        var tuple = new FourTuple(Local, 80, IpAddr.Parse($"198.51.100.{1 + n % 200}"), (ushort)(1024 + n / 200));
        return TimeWaitState.Restore(options ?? ConnectionOptions.Default, tuple, new SeqNum((uint)n), new SeqNum((uint)n * 7), n % 2 == 0, 512,
            (uint)n, 0, enteredAt + 2 * (options ?? ConnectionOptions.Default).Msl, 65535, orphaned: true, 0, 64);
    }

    [Fact]
    public void Thousands_of_entries_are_found_by_tuple_with_what_they_kept()
    {
        var table = new TimeWaitTable();
        for (int n = 0; n < 5000; n++) table.Add(Entry(n, TimeSpan.Zero));
        Assert.Equal(5000, table.Count);
        for (int n = 0; n < 5000; n += 97)
        {
            var want = Entry(n, TimeSpan.Zero);
            var got = table.Get(want.Tuple);
            Assert.NotNull(got);
            Assert.Equal(want.SndNxt, got.SndNxt);
            Assert.Equal(want.RcvNxt, got.RcvNxt);
            Assert.Equal(want.Timestamps, got.Timestamps);
            Assert.Equal(want.Expires, got.Expires);
        }
        Assert.Null(table.Get(new FourTuple(Local, 80, IpAddr.Parse("198.51.100.250"), 9)));
        Assert.True(table.Remove(Entry(3, TimeSpan.Zero).Tuple));
        Assert.False(table.Contains(Entry(3, TimeSpan.Zero).Tuple));
        Assert.Equal(4999, table.Count);
    }

    [Fact]
    public void Nothing_expires_before_two_msl_and_everything_after()
    {
        var table = new TimeWaitTable();
        for (int n = 0; n < 300; n++) table.Add(Entry(n, TimeSpan.FromMilliseconds(n)));
        var gone = new List<FourTuple>();
        table.ExpireDue(2 * Msl - TimeSpan.FromMilliseconds(1), gone.Add);
        Assert.Empty(gone);
        Assert.Equal(2 * Msl, table.NextExpiry);
        table.ExpireDue(2 * Msl + TimeSpan.FromMilliseconds(99), gone.Add);
        Assert.Equal(100, gone.Count);
        Assert.Equal(Entry(0, TimeSpan.Zero).Tuple, gone[0]);
        table.ExpireDue(2 * Msl + TimeSpan.FromSeconds(1), gone.Add);
        Assert.Equal(300, gone.Count);
        Assert.Equal(0, table.Count);
        Assert.Null(table.NextExpiry);
    }

    [Fact]
    public void A_restarted_entry_outlives_its_first_expiry_and_entries_of_another_msl_keep_their_own()
    {
        var table = new TimeWaitTable();
        var shortMsl = ConnectionOptions.Default with { Msl = TimeSpan.FromSeconds(1) };
        var first = Entry(1, TimeSpan.Zero);
        table.Add(first);
        table.Add(Entry(2, TimeSpan.FromSeconds(10)));
        table.Add(Entry(3, TimeSpan.FromSeconds(20), shortMsl));
        table.Restart(first.Tuple, TimeSpan.FromSeconds(50) + 2 * Msl); // its FIN came again at 50 s
        var gone = new List<FourTuple>();
        table.ExpireDue(TimeSpan.FromSeconds(22), gone.Add);
        Assert.Equal([Entry(3, TimeSpan.Zero, shortMsl).Tuple], gone); // 1 s MSL: gone at 22 s
        table.ExpireDue(2 * Msl + TimeSpan.FromSeconds(10), gone.Add);
        Assert.Equal(2, gone.Count); // the second; the restarted first waits
        Assert.True(table.Contains(first.Tuple));
        table.ExpireDue(TimeSpan.FromSeconds(50) + 2 * Msl, gone.Add);
        Assert.False(table.Contains(first.Tuple));
    }
}
