namespace Synack.Stack;

/// <summary>Something in the stack with a timer on the wheel.</summary>
internal abstract class TimedEntry
{
    protected TimedEntry() => Timer = new WheelTimer<TimedEntry>(this);

    public WheelTimer<TimedEntry> Timer { get; }

    public abstract void Expire(TimeSpan now);
}
