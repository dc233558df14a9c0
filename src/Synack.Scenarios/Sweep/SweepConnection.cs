namespace Synack.Scenarios.Sweep;

/// <summary>One connection of a sweep's plan: its kind, when it starts, what each side sends.</summary>
public sealed record SweepConnection(int Id, SweepWorkload Workload, TimeSpan Start, int ClientBytes, int ServerBytes, TimeSpan Pause, bool ClientAborts);
