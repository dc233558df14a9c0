namespace Synack.Wire;

/// <summary>Which way a captured packet went, as pcapng's epb_flags say it.</summary>
public enum PacketDirection
{
    Unknown = 0,
    Inbound = 1,
    Outbound = 2,
}
