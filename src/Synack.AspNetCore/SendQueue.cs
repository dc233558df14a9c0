using System.Collections.Concurrent;
using System.IO.Pipelines;

namespace Synack.AspNetCore;

/// <summary>
/// Where the send pumps of many connections run: one thread-pool work item at a time drains every
/// pump scheduled meanwhile, as Kestrel's socket transport runs its sends (its IOQueue). Each pipe's
/// flush scheduled straight on the thread pool cost a work item and often a worker's wake-up of its
/// own; under load (h2load's 128 streams on 8 connections) the pumps of several connections now run
/// in one, and an idle worker is woken once for all of them.
/// </summary>
internal sealed class SendQueue : PipeScheduler, IThreadPoolWorkItem
{
    private readonly ConcurrentQueue<(Action<object?> Work, object? State)> _work = new();
    private int _scheduled; // 1 while a work item is queued or draining

    public override void Schedule(Action<object?> action, object? state)
    {
        _work.Enqueue((action, state));
        if (Interlocked.CompareExchange(ref _scheduled, 1, 0) == 0) System.Threading.ThreadPool.UnsafeQueueUserWorkItem(this, preferLocal: false);
    }

    void IThreadPoolWorkItem.Execute()
    {
        while (true)
        {
            while (_work.TryDequeue(out var item)) item.Work(item.State);
            Volatile.Write(ref _scheduled, 0);
            // Work queued after the last look, by a thread that saw this one draining, is ours to run.
            Interlocked.MemoryBarrier();
            if (_work.IsEmpty || Interlocked.CompareExchange(ref _scheduled, 1, 0) != 0) return;
        }
    }

    /// <summary>As many queues as Kestrel's socket transport makes (one per core, at most 16); connections are dealt round them.</summary>
    internal sealed class Set
    {
        private readonly SendQueue[] _queues = Enumerable.Range(0, Math.Min(Environment.ProcessorCount, 16)).Select(_ => new SendQueue()).ToArray();
        private int _next;

        public SendQueue Next() => _queues[(uint)Interlocked.Increment(ref _next) % (uint)_queues.Length];
    }
}
