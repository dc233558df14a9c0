namespace Synack.Tcp;

/// <summary>
/// Input a connection turned away because keeping it would cost more than its bounds allow: what a
/// SegmentSmack or SACK-panic peer sends. The segment's other fields still count; only this part is lost.
/// </summary>
public enum RefusedInput
{
    /// <summary>An out-of-order segment that would have needed more separate ranges than the reassembly queue keeps.</summary>
    OutOfOrderSegment,
    /// <summary>A SACK block about nothing in flight (beyond what was sent, or inverted), or one the scoreboard had no room for.</summary>
    SackBlock,
}
