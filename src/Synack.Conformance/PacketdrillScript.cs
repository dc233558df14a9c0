namespace Synack.Conformance;

/// <summary>A script's options (--ip_version=ipv4) and events, after #ifdef selection.</summary>
public sealed record PacketdrillScript(string Path, IReadOnlyDictionary<string, string> Options, IReadOnlyList<ScriptEvent> Events);
