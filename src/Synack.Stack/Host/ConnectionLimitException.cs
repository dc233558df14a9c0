namespace Synack.Stack;

/// <summary>An active open refused because the stack holds as many connections as it may (<see cref="StackOptions.MaxConnections"/>).</summary>
internal sealed class ConnectionLimitException(string message) : InvalidOperationException(message);
