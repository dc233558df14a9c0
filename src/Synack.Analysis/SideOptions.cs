namespace Synack.Analysis;

/// <summary>The options one side offered in its SYN.</summary>
public sealed record SideOptions(int? Mss, int? WindowScale, bool SackPermitted, bool Timestamps);
