namespace Synack.Wire;

public enum TcpOptionKind : byte
{
    EndOfList = 0,
    Nop = 1,
    Mss = 2,
    WindowScale = 3,
    SackPermitted = 4,
    Sack = 5,
    Timestamps = 8,
}
