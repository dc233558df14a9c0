namespace Synack.Stack;

/// <summary>A timer the wheel holds: one per connection or TIME-WAIT entry, re-armed in place.</summary>
internal sealed class WheelTimer<T>(T owner) where T : class
{
    public T Owner { get; } = owner;
    public long Deadline { get; internal set; } = -1;
    public bool IsArmed => Slot >= 0;
    internal WheelTimer<T>? Prev, Next;
    internal int Slot = -1;
}
