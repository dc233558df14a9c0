namespace Synack.AspNetCore.Tests;

/// <summary>The transport's send queue: one drain at a time, and nothing scheduled while it drains is left behind.</summary>
public sealed class SendQueueTests
{
    [Fact]
    public async Task Work_scheduled_from_many_threads_runs_once_each_one_at_a_time_and_none_is_left_behind()
    {
        // Many short bursts: each burst's end is where work queued just as a drain finishes could be
        // stranded (nobody schedules the queue again), which times the burst out.
        const int Bursts = 300, Threads = 2, Each = 50;
        var queue = new SendQueue();
        int inside = 0, overlaps = 0;
        for (int burst = 0; burst < Bursts; burst++)
        {
            int ran = 0;
            var all = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            Action<object?> work = _ =>
            {
                if (Interlocked.Increment(ref inside) != 1) Interlocked.Increment(ref overlaps);
                Thread.SpinWait(20);
                Interlocked.Decrement(ref inside);
                if (Interlocked.Increment(ref ran) == Threads * Each) all.TrySetResult();
            };
            using var go = new Barrier(Threads);
            var schedulers = Enumerable.Range(0, Threads).Select(_ => new Thread(() =>
            {
                go.SignalAndWait();
                for (int i = 0; i < Each; i++) queue.Schedule(work, null);
            })).ToList();
            schedulers.ForEach(t => t.Start());
            schedulers.ForEach(t => t.Join());
            var finished = await Task.WhenAny(all.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            Assert.True(finished == all.Task, $"burst {burst}: {Volatile.Read(ref ran)} of {Threads * Each} ran; the rest were left in the queue");
        }
        Assert.Equal(0, overlaps);
    }
}
