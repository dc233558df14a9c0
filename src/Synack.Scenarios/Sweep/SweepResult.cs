namespace Synack.Scenarios.Sweep;

/// <summary>How one seed's run went: the invariants it broke (none is a pass), and what it moved.</summary>
public sealed record SweepResult(int Seed, IReadOnlyList<string> Violations, int Connections, long BytesDelivered, int ConnectionsFailed, TimeSpan VirtualTime)
{
    /// <summary>True when no invariant was violated.</summary>
    public bool Passed => Violations.Count == 0;
    /// <summary>How often the run's connections entered each state (indexed by <see cref="Synack.Tcp.TcpState"/>), both hosts together.</summary>
    public IReadOnlyList<int> StatesEntered { get; init; } = [];
    /// <summary>Handshakes in which a SYN crossed ours (SYN-SENT to SYN-RECEIVED).</summary>
    public int SimultaneousOpens { get; init; }
    /// <summary>The run checked the planted invariant too (a test of the harness, see <see cref="SweepRun.Run"/>).</summary>
    public bool Planted { get; init; }
    /// <summary>The command that replays this seed, with its capture.</summary>
    public string ReplayCommand => $"synack simulate --seed {Seed}{(Planted ? " --planted-invariant" : "")} --capture seed-{Seed}.pcapng";
}
