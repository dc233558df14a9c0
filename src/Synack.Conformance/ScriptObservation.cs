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
public sealed record ScriptObservation(int Line, string Text, double? Seconds = null);
