namespace Synack.Explorer;

// What the page is sent: plain records, serialized as JSON with web (camelCase) names.

/// <summary>An armed timer and when it fires, in milliseconds of the run's virtual time.</summary>
internal sealed record TimerView(string Name, double AtMs);

/// <summary>One endpoint's TCB at one moment of the run.</summary>
internal sealed record TcbView(
    string State, uint Iss, uint Irs, uint SndUna, uint SndNxt, uint SndWnd, uint RcvNxt, uint RcvWnd,
    uint Cwnd, uint Ssthresh, double RtoMs, TimerView[] Timers);

/// <summary>A segment as the ladder and the bytes view show it; relative numbers count from each side's ISN.</summary>
/// <param name="Flags">As tcpdump and packetdrill write them: "S", "S.", "P.", "F.", "." (the dot is ACK).</param>
/// <param name="Fields">The IP and TCP headers field by field, options decoded, as Wireshark's packet details list them.</param>
internal sealed record SegmentView(
    string From, string To, string Flags, bool HasAck, uint Seq, uint Ack, long RelSeq, long RelAck, int Length, ushort Window,
    string Options, string Hex, string[][] Fields);

/// <summary>One event of the run, with both endpoints as they are just after it.</summary>
/// <param name="Pair">For a segment sent, the event where it arrived or was lost; for one delivered, where it was sent.</param>
internal sealed record StepView(
    int Index, double TimeMs, string Kind, string Endpoint, SegmentView? Segment, string? From, string? To, string Text,
    string ClientState, string ServerState, TcbView? Client, TcbView? Server, string Sentence, int? Pair);

/// <summary>A whole lab run.</summary>
internal sealed record LabView(LabRequest Request, string Title, string Note, string Description, StepView[] Steps);

/// <summary>A scenario the lab offers.</summary>
internal sealed record ScenarioView(string Name, string Note, string Description);
