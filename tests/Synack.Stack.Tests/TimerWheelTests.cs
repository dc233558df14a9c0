namespace Synack.Stack.Tests;

public class TimerWheelTests
{
    private sealed class Owner(int id) : WheelTimer<Owner>
    {
        public int Id { get; } = id;
    }

    /// <summary>Against a sorted reference: every timer fires in the Advance that passes its deadline, never before.</summary>
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Random_timers_fire_exactly_when_due(int seed)
    {
        var rng = new Random(seed);
        long start = rng.Next(0, 1_000_000);
        var wheel = new TimerWheel<Owner>(start);
        var timers = Enumerable.Range(0, 2000).Select(i => new Owner(i)).ToArray();
        var deadline = new Dictionary<int, long>();
        long now = start;
        var expired = new List<Owner>();
        for (int step = 0; step < 5000; step++)
        {
            int op = rng.Next(10);
            var t = timers[rng.Next(timers.Length)];
            if (op < 5)
            {
                long horizon = rng.Next(4) switch { 0 => 64, 1 => 5000, 2 => 400_000, _ => 40_000_000 };
                long d = now + rng.NextInt64(0, horizon);
                wheel.Arm(t, d);
                deadline[t.Id] = d;
            }
            else if (op < 7)
            {
                wheel.Cancel(t);
                deadline.Remove(t.Id);
            }
            else
            {
                long to = now + rng.Next(3) switch { 0 => rng.Next(0, 10), 1 => rng.Next(0, 10_000), _ => rng.NextInt64(0, 20_000_000) };
                var wake = wheel.NextWakeup();
                var earliest = deadline.Count == 0 ? (long?)null : deadline.Values.Min();
                if (earliest is long e) Assert.True(wake <= Math.Max(e, now), $"wake-up {wake} after the earliest deadline {e}");
                expired.Clear();
                wheel.Advance(to, expired);
                var due = deadline.Where(kv => kv.Value <= to).Select(kv => kv.Key).OrderBy(x => x).ToArray();
                Assert.Equal(due, expired.Select(o => o.Id).OrderBy(x => x).ToArray());
                foreach (var id in due) deadline.Remove(id);
                now = to;
            }
            Assert.Equal(deadline.Count, wheel.Count);
        }
    }

    [Fact]
    public void An_idle_day_is_skipped_in_few_steps_and_a_far_timer_still_fires()
    {
        var wheel = new TimerWheel<Owner>(0);
        var far = new Owner(1);
        wheel.Arm(far, 30L * 3600 * 1000); // 30 hours: past the four levels, in the overflow list
        var expired = new List<Owner>();
        int wakeups = 0;
        while (expired.Count == 0)
        {
            var next = wheel.NextWakeup()!.Value;
            wheel.Advance(next, expired);
            wakeups++;
        }
        Assert.Equal(30L * 3600 * 1000, wheel.Now);
        Assert.True(wakeups < 300, $"{wakeups} wake-ups");
    }

    [Fact]
    public void Cancel_and_rearm_are_constant_time_operations_on_the_node()
    {
        var wheel = new TimerWheel<Owner>(0);
        var t = new Owner(1);
        wheel.Arm(t, 100);
        wheel.Arm(t, 50);
        Assert.Equal(1, wheel.Count);
        wheel.Cancel(t);
        wheel.Cancel(t);
        Assert.Equal(0, wheel.Count);
        Assert.False(t.IsArmed);
        var expired = new List<Owner>();
        wheel.Advance(1000, expired);
        Assert.Empty(expired);
    }
}
