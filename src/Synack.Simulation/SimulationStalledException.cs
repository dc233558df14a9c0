namespace Synack.Simulation;

/// <summary>
/// A simulated run cannot finish: nothing is left to happen on the network while the code waits on
/// something outside the simulation. Its message says what usually causes it and how to fix it.
/// </summary>
public sealed class SimulationStalledException(string message) : InvalidOperationException(message);
