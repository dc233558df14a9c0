namespace Synack.Conformance;

/// <summary>
/// When an event happens: absolute, relative to the previous event (+), or any time (*).
/// <see cref="UpTo"/> is when a blocking call returns (<c>0.1...0.2</c>); <see cref="Latest"/> closes a
/// window the event may happen in (<c>+.3~+.4</c>), relative to the previous event when
/// <see cref="LatestRelative"/>.
/// </summary>
public readonly record struct EventTime(bool Relative, bool Any, double Seconds, double? UpTo, double? Latest = null, bool LatestRelative = false);
