namespace Synack.Tcp;

/// <summary>
/// The user events one input raises, delivered when it is done, first in first out. Two fit inline
/// (an input rarely raises more), each as two bytes; more spill into a queue made then — so an idle
/// connection carries 16 bytes here and no queue object.
/// </summary>
internal struct PendingEvents
{
    private Slot _s0, _s1;
    private byte _head, _count;
    private Queue<(ConnectionEvent Event, TcpError Error)>? _more;

    public void Enqueue(ConnectionEvent e, TcpError error)
    {
        if (_count == 2 || _more is { Count: > 0 })
        {
            (_more ??= new Queue<(ConnectionEvent, TcpError)>(4)).Enqueue((e, error));
            return;
        }
        if (((_head + _count) & 1) == 0) _s0 = new Slot(e, error);
        else _s1 = new Slot(e, error);
        _count++;
    }

    public bool TryDequeue(out (ConnectionEvent Event, TcpError Error) item)
    {
        if (_count > 0)
        {
            var slot = _head == 0 ? _s0 : _s1;
            item = ((ConnectionEvent)slot.Event, (TcpError)slot.Error);
            _head ^= 1;
            _count--;
            return true;
        }
        if (_more is not null && _more.TryDequeue(out item)) return true;
        item = default;
        return false;
    }

    // Both enums have fewer than 256 members (checked by a test).
    private readonly record struct Slot(byte Event, byte Error)
    {
        public Slot(ConnectionEvent e, TcpError error) : this((byte)e, (byte)error) { }
    }
}
