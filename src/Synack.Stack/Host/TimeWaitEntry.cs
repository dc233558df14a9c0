using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>A TIME-WAIT connection in the stack's table: its <see cref="TimeWaitState"/> and its place on the wheel.</summary>
internal sealed class TimeWaitEntry(NetworkStack stack, TimeWaitState state) : TimedEntry
{
    public TimeWaitState State { get; } = state;
    public FourTuple Tuple => State.Tuple;

    public override void Expire(TimeSpan now) => stack.ExpireTimeWait(this, now);
}
