using Synack.Wire;

namespace Synack.Tcp;

// ICMP errors about our segments (RFC 1122 4.2.3.9, RFC 5927): believed only when they quote a
// sequence number we have outstanding; hard errors end a connect, soft ones are only remembered.
public sealed partial class Connection
{
    /// <summary>The last soft ICMP error (RFC 1122: reported, never fatal on its own).</summary>
    public IcmpErrorKind? SoftError { get; private set; }

    private int _pathMss = int.MaxValue; // from ICMPv6 packet-too-big

    /// <summary>The MSS our SYN announces: the configured one, lowered by what the path has told us.</summary>
    private ushort SynMss => (ushort)Math.Min(_o.AnnouncedMss(Tuple.RemoteAddress.IsV6), _pathMss);

    /// <summary>An ICMP error about one of our segments (RFC 1122 4.2.3.9, RFC 5927): believed only when it quotes a sequence number we have outstanding.</summary>
    public void OnIcmpError(in IcmpError icmp, TimeSpan now)
    {
        using var _ = Enter();
        // RFC 5927 4.1: an error quoting a sequence number outside SND.UNA..SND.MAX is forged or stale.
        if (!(icmp.QuotedSeq >= _snd.Una && icmp.QuotedSeq < _snd.Max)) return;
        switch (icmp.Kind)
        {
            case IcmpErrorKind.Refused or IcmpErrorKind.HostUnreachable when State == TcpState.SynSent && _o.IcmpAbortsConnect:
                EnterClosed($"ICMP {icmp.Type}/{icmp.Code} for our SYN", icmp.Kind == IcmpErrorKind.Refused ? TcpError.ConnectionRefused : TcpError.HostUnreachable);
                return;
            case IcmpErrorKind.PacketTooBig:
                // IPv6 (RFC 8201): a smaller path MTU (never below 1280) lowers what we announce and send.
                // IPv4's "fragmentation needed" is left alone: our segments fit the MSS the peer announced.
                if (Tuple.RemoteAddress.IsV6 && icmp.Mtu >= 1280 && icmp.Mtu - 60 < _pathMss)
                {
                    _pathMss = icmp.Mtu - 60;
                    if (_snd.Mss > _pathMss)
                    {
                        _snd.Mss = _pathMss;
                        _snd.Congestion.SetMss(_snd.Mss);
                    }
                }
                return;
            default:
                SoftError = icmp.Kind;
                return;
        }
    }
}
