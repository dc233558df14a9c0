namespace Synack.Wire;

/// <summary>One SACK block: the bytes [Left, Right) were received (RFC 2018).</summary>
public readonly record struct SackBlock(SeqNum Left, SeqNum Right);
