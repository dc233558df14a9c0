namespace Synack.Conformance;

/// <summary>
/// What the stack under test did at one line of a script, in terms two stacks can be compared in: a
/// packet as the script would write it (sequence numbers relative, the stack's own timestamp clock
/// left out), what a system call returned, the <c>tcp_info</c> values a Python block read, or the
/// failure that ended the run.
/// </summary>
/// <param name="Line">The script line.</param>
/// <param name="Text">What happened, in the script's notation.</param>
/// <param name="Seconds">When (for a packet), from the script's start; compared within the tolerance.</param>
public sealed record ScriptObservation(int Line, string Text, double? Seconds = null)
{
    /// <summary>
    /// For a packet of a recorded run: how long the stack had been quiet before it (nothing received,
    /// sent or called). A packet after a long quiet came from a timer, which Linux's timer wheel may
    /// fire up to one granule of its level late.
    /// </summary>
    public TimeSpan? Idle { get; init; }
}
