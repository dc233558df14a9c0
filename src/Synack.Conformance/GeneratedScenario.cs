namespace Synack.Conformance;

/// <summary>
/// A connection-management scenario made from a seed: a packetdrill script that says only what the
/// peer sends and what the application calls, in Google's dialect; what the stack sends and returns
/// is recorded when it runs (<see cref="DifferentialRun"/>), so the kernel's answer and Synack's can
/// be held side by side.
/// </summary>
/// <param name="Seed">The seed it was made from: the same seed makes the same script.</param>
/// <param name="Family">The kind of scenario and its main variations, e.g. <c>passive/final-ack-lost/peer-close</c>: divergences are grouped by it.</param>
/// <param name="Text">The script.</param>
public sealed record GeneratedScenario(int Seed, string Family, string Text)
{
    /// <summary>The script's lines that do something (not comments, not blank): the measure of a minimal example.</summary>
    public int EventCount => Text.Split('\n').Count(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith("//", StringComparison.Ordinal));
}
