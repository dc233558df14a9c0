namespace Synack.Conformance;

/// <summary>
/// An epoll instance as Linux keeps one (fs/eventpoll.c): the descriptors it watches, and a ready list
/// in the order their wake-ups came. A level-triggered item stays on the list while it is ready; an
/// edge-triggered one leaves it once reported and comes back only with the next wake-up.
/// </summary>
internal sealed class ScriptEpoll(int fd)
{
    public const uint In = 0x001, Out = 0x004, Err = 0x008, Hup = 0x010, RdHup = 0x2000;
    public const uint OneShot = 1u << 30, EdgeTriggered = 1u << 31;

    /// <summary>One watched descriptor: the events asked for and the flags (EPOLLET, EPOLLONESHOT).</summary>
    public sealed class Item(int fd, uint events)
    {
        public int Fd { get; } = fd;
        public uint Events { get; set; } = events;
        /// <summary>EPOLLONESHOT reported once: silent until EPOLL_CTL_MOD arms it again.</summary>
        public bool Disarmed { get; set; }
        public bool Edge => (Events & EdgeTriggered) != 0;
        /// <summary>What the item reports: the events asked for, and errors and hang-ups always.</summary>
        public uint Wanted => (Events & ~(EdgeTriggered | OneShot)) | Err | Hup;
    }

    private readonly Dictionary<int, Item> _items = [];
    private readonly List<Item> _ready = [];

    public int Fd { get; } = fd;

    public bool Watches(int fd) => _items.ContainsKey(fd);

    /// <summary>EPOLL_CTL_ADD: false (EEXIST) if it is watched already. Ready at once if it already is (ep_insert polls it).</summary>
    public bool Add(int fd, uint events, uint readyNow)
    {
        if (_items.ContainsKey(fd)) return false;
        var item = new Item(fd, events);
        _items[fd] = item;
        if ((readyNow & item.Wanted) != 0) MarkReady(item);
        return true;
    }

    /// <summary>EPOLL_CTL_MOD: new events, a one-shot item armed again, and ready at once if it is (ep_modify polls it).</summary>
    public bool Modify(int fd, uint events, uint readyNow)
    {
        if (!_items.TryGetValue(fd, out var item)) return false;
        item.Events = events;
        item.Disarmed = false;
        if ((readyNow & item.Wanted) != 0) MarkReady(item);
        return true;
    }

    /// <summary>EPOLL_CTL_DEL, or the descriptor closed.</summary>
    public bool Remove(int fd)
    {
        if (!_items.Remove(fd, out var item)) return false;
        _ready.Remove(item);
        return true;
    }

    /// <summary>
    /// A wake-up on <paramref name="fd"/>'s wait queue with <paramref name="key"/> (0: a state change, which
    /// wakes every waiter): the item joins the ready list if the key is one of its events (ep_poll_callback).
    /// </summary>
    public void Wake(int fd, uint key)
    {
        if (!_items.TryGetValue(fd, out var item) || item.Disarmed) return;
        if (key != 0 && (key & item.Wanted) == 0) return;
        MarkReady(item);
    }

    private void MarkReady(Item item)
    {
        if (!_ready.Contains(item)) _ready.Add(item);
    }

    /// <summary>
    /// epoll_wait's harvest (ep_send_events): each ready item polled again, reported with what it has of
    /// its events; a level-triggered item stays ready, an edge-triggered or one-shot one leaves.
    /// </summary>
    public List<(Item Item, uint Events)> Harvest(int max, Func<int, uint> poll)
    {
        var reported = new List<(Item, uint)>();
        int i = 0;
        while (i < _ready.Count && reported.Count < max)
        {
            var item = _ready[i];
            uint events = item.Disarmed ? 0 : poll(item.Fd) & item.Wanted;
            if (events == 0)
            {
                _ready.RemoveAt(i);
                continue;
            }
            reported.Add((item, events));
            if ((item.Events & OneShot) != 0) item.Disarmed = true;
            if (item.Edge || item.Disarmed) _ready.RemoveAt(i);
            else i++;
        }
        // Level-triggered items go to the back, after those not yet reported, as Linux requeues them.
        foreach (var (item, _) in reported)
        {
            if (_ready.Remove(item)) _ready.Add(item);
        }
        return reported;
    }
}
