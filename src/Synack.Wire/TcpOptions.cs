using System.Runtime.CompilerServices;

namespace Synack.Wire;

/// <summary>Up to four SACK blocks, inline (no allocation per segment).</summary>
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
    /// <summary>The most SACK blocks an option can carry (three beside timestamps).</summary>
    public const int MaxSackBlocks = 4;
    /// <summary>The most option bytes a header can carry.</summary>
    public const int MaxLength = 40;

    /// <summary>True when the MSS option is present.</summary>
    public bool HasMss;
    /// <summary>The MSS option's value.</summary>
    public ushort Mss;
    /// <summary>True when the window scale option is present.</summary>
    public bool HasWindowScale;
    /// <summary>The window scale option's shift count.</summary>
    public byte WindowScale;
    /// <summary>True when the SACK-permitted option is present.</summary>
    public bool SackPermitted;
    /// <summary>True when the timestamps option is present.</summary>
    public bool HasTimestamps;
    /// <summary>The timestamps option's TSval.</summary>
    public uint TsVal;
    /// <summary>The timestamps option's TSecr.</summary>
    public uint TsEcr;
    /// <summary>How many SACK blocks <see cref="SackBlocks"/> holds.</summary>
    public int SackBlockCount;
    /// <summary>The SACK blocks, in the order they are carried.</summary>
    public SackBlockArray SackBlocks;
    /// <summary>Options of kinds we do not know (or known kinds with a wrong length), skipped by their length.</summary>
    public int UnknownCount;

    /// <summary>Adds a SACK block; blocks past <see cref="MaxSackBlocks"/> are not kept.</summary>
    public void AddSackBlock(SackBlock block)
    {
        if (SackBlockCount < MaxSackBlocks)
        {
            SackBlocks[SackBlockCount++] = block;
        }
    }

    /// <summary>True when no option is present.</summary>
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
