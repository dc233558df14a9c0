using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>
/// FreeBSD <c>sysctl -w</c> lines mapped onto the stack's settings. A setting the stack has no
/// counterpart for is noted when its value is the default (nothing to do) and makes the script
/// unsupported when it asks for a behaviour the stack does not have.
/// </summary>
internal static class Sysctl
{
    /// <summary>Applies one setting; returns a note when it changes nothing here, throws when the script needs what is out of scope.</summary>
    public static ConnectionOptions Apply(ConnectionOptions o, string name, long value, List<string> notes)
    {
        switch (name)
        {
            case "net.inet.tcp.rfc1323":
                return o with { WindowScaling = value != 0, Timestamps = value != 0 };
            case "net.inet.tcp.sack.enable":
                return o with { Sack = value != 0 };
            case "net.inet.tcp.recvspace":
                return o with { ReceiveBufferSize = (int)value };
            case "net.inet.tcp.sendspace":
                return o with { SendBufferSize = (int)value };
            case "kern.ipc.maxsockbuf":
                {
                    // FreeBSD picks the smallest window scale that can cover the largest socket buffer.
                    byte ws = 0;
                    while (ws < 14 && (65535L << ws) < value) ws++;
                    return o with { WindowScale = ws };
                }
            case "net.inet.tcp.insecure_rst":
                return o with { Rfc5961Rst = value == 0 };
            case "net.inet.tcp.insecure_syn":
                return o with { Rfc5961Syn = value == 0 };
            case "net.inet.tcp.rexmit_initial":
                return o with { InitialRto = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.rexmit_min":
                return o with { MinRto = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.rexmit_slop":
                return o with { RtoSlop = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.drop_synfin":
                return o with { DropSynFin = value != 0 };
            case "net.inet.tcp.keepinit":
                return o with { ConnectionEstablishmentTimeout = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.rexmit_drop_options":
                return o with { DropSynOptionsAfterRetries = value != 0 ? 3 : null };
            case "net.inet.tcp.tolerate_missing_ts":
                return o with { DropSegmentsWithoutTimestamps = value == 0 };
            case "net.inet.tcp.icmp_may_rst":
                return o with { IcmpAbortsConnect = value != 0 };
            case "net.inet.tcp.delacktime":
                return o with { DelayedAckTimeout = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.keepidle":
                return o with { KeepAliveIdle = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.keepintvl":
                return o with { KeepAliveInterval = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.keepcnt":
                return o with { KeepAliveCount = (int)value };
            case "net.inet.tcp.mssdflt":
                return o with { DefaultPeerMss = (ushort)value };
            case "net.inet.tcp.msl":
                return o with { Msl = TimeSpan.FromMilliseconds(value) };
            case "net.inet.tcp.ecn.enable":
                return o with { Ecn = value switch { 0 => EcnMode.Off, 1 => EcnMode.Request, _ => EcnMode.Accept } };
            case "net.inet.tcp.ecn.maxretries":
                return o with { EcnSetupRetries = (int)value };
            case "net.inet.tcp.fastopen.client_enable":
            case "net.inet.tcp.fastopen.server_enable":
                if (value != 0) throw new UnsupportedScriptException("TCP fast open");
                return o;
            case "net.inet.tcp.udp_tunneling_port":
                if (value != 0) throw new UnsupportedScriptException("TCP over UDP encapsulation");
                return o;
            case "net.inet.tcp.blackhole":
                if (value != 0) throw new UnsupportedScriptException("blackhole (no RST for closed ports)");
                return o;
            case "net.inet.tcp.hostcache.purgenow":
                notes.Add($"{name}: no host cache here, nothing to purge");
                return o;
            case "net.inet.tcp.syncookies":
                return o with { SynCookies = value == 0 ? SynCookieMode.Off : o.SynCookies == SynCookieMode.Always ? SynCookieMode.Always : SynCookieMode.WhenNeeded };
            case "net.inet.tcp.syncookies_only":
                return o with { SynCookies = value != 0 ? SynCookieMode.Always : o.SynCookies == SynCookieMode.Always ? SynCookieMode.WhenNeeded : o.SynCookies };
            case "net.inet.tcp.udp_tunneling_overhead":
            case "net.inet.tcp.path_mtu_discovery":
            case "net.inet.tcp.pmtud_blackhole_detection":
            case "net.inet.tcp.pmtud_blackhole_mss":
            case "net.inet.tcp.v6pmtud_blackhole_mss":
            case "net.inet.tcp.v6mssdflt":
                notes.Add($"{name}={value}: no counterpart in the stack, left at its own behaviour");
                return o;
            default:
                notes.Add($"{name}={value}: unknown setting, ignored");
                return o;
        }
    }
}
