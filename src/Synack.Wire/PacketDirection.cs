namespace Synack.Wire;

/// <summary>Which way a captured packet went, as pcapng's epb_flags say it.</summary>
public enum PacketDirection
{
    /// <summary>The capture did not say.</summary>
    Unknown = 0,
    /// <summary>Received by the capturing host.</summary>
    Inbound = 1,
    /// <summary>Sent by the capturing host.</summary>
    Outbound = 2,
}
