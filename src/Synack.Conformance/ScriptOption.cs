using Synack.Wire;

namespace Synack.Conformance;

/// <summary>One TCP option as a script writes it: <c>mss 1460</c>, <c>nop</c>, <c>sack 1:100 200:300</c>.</summary>
internal readonly record struct ScriptOption(TcpOptionKind Kind, uint A = 0, uint B = 0, (uint Left, uint Right)[]? Blocks = null)
{
    public override string ToString() => Kind switch
    {
        TcpOptionKind.EndOfList => "eol",
        TcpOptionKind.Nop => "nop",
        TcpOptionKind.Mss => $"mss {A}",
        TcpOptionKind.WindowScale => $"wscale {A}",
        TcpOptionKind.SackPermitted => "sackOK",
        TcpOptionKind.Timestamps => $"TS val {A} ecr {B}",
        TcpOptionKind.Sack => "sack " + string.Join(' ', (Blocks ?? []).Select(b => $"{b.Left}:{b.Right}")),
        _ => $"opt{(byte)Kind}",
    };
}
