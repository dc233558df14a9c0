namespace Synack.Conformance;

/// <summary>When an event happens: absolute, relative to the previous event (+), or any time (*); maybe a range.</summary>
public readonly record struct EventTime(bool Relative, bool Any, double Seconds, double? UpTo);
