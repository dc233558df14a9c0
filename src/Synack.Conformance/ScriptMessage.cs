using System.Globalization;
using System.Text.RegularExpressions;

namespace Synack.Conformance;

/// <summary>
/// The <c>struct msghdr</c> of a script's recvmsg()/sendmsg(): how many bytes its iovecs hold, the
/// msg_flags it expects back, and its control messages. Only TCP_CM_INQ (TCP_INQ's byte count)
/// is understood; any other control message makes the script unsupported, with its name.
/// </summary>
internal sealed partial record ScriptMessage(int Length, string Flags, int? Inq)
{
    [GeneratedRegex(@"\{\s*\.\.\.\s*,\s*(?<len>[0-9]+)\s*\}")]
    private static partial Regex IoVector();

    [GeneratedRegex(@"msg_flags\s*=\s*(?<flags>[A-Z_|0-9]+)")]
    private static partial Regex MessageFlags();

    [GeneratedRegex(@"cmsg_level\s*=\s*(?<level>\w+)\s*,\s*cmsg_type\s*=\s*(?<type>\w+)\s*,\s*cmsg_data\s*=\s*(?<data>\{[^}]*\}|[^,}\]\s]+)")]
    private static partial Regex ControlMessage();

    public static ScriptMessage Parse(string msghdr)
    {
        int length = 0;
        int iov = msghdr.IndexOf("msg_iov", StringComparison.Ordinal);
        if (iov < 0) throw new FormatException("a msghdr without msg_iov");
        int control = msghdr.IndexOf("msg_control", StringComparison.Ordinal);
        var vectors = control > iov ? msghdr[iov..control] : msghdr[iov..];
        foreach (Match m in IoVector().Matches(vectors)) length += int.Parse(m.Groups["len"].Value, CultureInfo.InvariantCulture);
        string flags = MessageFlags().Match(msghdr) is { Success: true } f ? f.Groups["flags"].Value : "0";
        int? inq = null;
        if (control >= 0)
        {
            foreach (Match m in ControlMessage().Matches(msghdr[control..]))
            {
                string type = m.Groups["type"].Value;
                if (type != "TCP_CM_INQ") throw new UnsupportedScriptException($"control message {type} ({m.Groups["level"].Value})");
                inq = int.Parse(m.Groups["data"].Value, CultureInfo.InvariantCulture);
            }
        }
        return new ScriptMessage(length, flags, inq);
    }
}
