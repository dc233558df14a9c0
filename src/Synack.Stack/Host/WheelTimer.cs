namespace Synack.Stack;

/// <summary>
/// What the wheel links: the timer's fields live in the object that owns the timer (a connection, a
/// TIME-WAIT entry), so an idle connection pays for no separate timer object and no pointer to it.
/// </summary>
internal abstract class WheelTimer<T> where T : WheelTimer<T>
{
    public long Deadline { get; internal set; } = -1;
    public bool IsArmed => Slot >= 0;
    internal T? Prev, Next;
    internal int Slot = -1;
}
