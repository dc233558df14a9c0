namespace Synack.Stack;

/// <summary>An <c>int</c> port, as .NET's own APIs take it, checked into the 16 bits TCP has.</summary>
internal static class PortNumber
{
    public static ushort Checked(int port, string parameter) =>
        port is >= 1 and <= 65535 ? (ushort)port : throw new ArgumentOutOfRangeException(parameter, port, "a TCP port is 1..65535");
}
