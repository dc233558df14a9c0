using System.Runtime.CompilerServices;

namespace Synack.Wire;

[InlineArray(TcpOptions.MaxSackBlocks)]
public struct SackBlockArray
{
    private SackBlock _first;
}

/// <summary>
/// The options of one segment as values. Fixed size, no allocation: this travels with every segment.
/// </summary>
public struct TcpOptions
{
    public const int MaxSackBlocks = 4;
    public const int MaxLength = 40;

    public bool HasMss;
    public ushort Mss;
    public bool HasWindowScale;
    public byte WindowScale;
    public bool SackPermitted;
    public bool HasTimestamps;
    public uint TsVal;
    public uint TsEcr;
    public int SackBlockCount;
    public SackBlockArray SackBlocks;
    /// <summary>Options of kinds we do not know (or known kinds with a wrong length), skipped by their length.</summary>
    public int UnknownCount;

    public void AddSackBlock(SackBlock block)
    {
        if (SackBlockCount < MaxSackBlocks)
        {
            SackBlocks[SackBlockCount++] = block;
        }
    }

    public readonly bool IsEmpty => !HasMss && !HasWindowScale && !SackPermitted && !HasTimestamps && SackBlockCount == 0;

    /// <summary>Like tcpdump: "mss 1460,sackOK,TS val 1 ecr 0,nop,wscale 7" (the order is ours, not the wire's).</summary>
    public readonly override string ToString()
    {
        var parts = new List<string>(5);
        if (HasMss) parts.Add($"mss {Mss}");
        if (SackPermitted) parts.Add("sackOK");
        if (HasTimestamps) parts.Add($"TS val {TsVal} ecr {TsEcr}");
        if (HasWindowScale) parts.Add($"wscale {WindowScale}");
        for (int i = 0; i < SackBlockCount; i++) parts.Add($"sack {SackBlocks[i].Left}:{SackBlocks[i].Right}");
        return string.Join(",", parts);
    }
}
