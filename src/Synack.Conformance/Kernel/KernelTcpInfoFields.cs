using System.Buffers.Binary;

namespace Synack.Conformance.Kernel;

/// <summary>
/// Linux's <c>struct tcp_info</c> (include/uapi/linux/tcp.h) read field by field from the bytes
/// <c>getsockopt(TCP_INFO)</c> returns, under the names the scripts' Python uses. A field past the
/// length the kernel returned is left out (an older kernel's shorter struct).
/// </summary>
internal static class KernelTcpInfoFields
{
    private enum Kind { U8, U32, U64, U16, LowNibble, HighNibble }

    private static readonly (string Name, int Offset, Kind Kind)[] Layout =
    [
        ("tcpi_state", 0, Kind.U8), ("tcpi_ca_state", 1, Kind.U8), ("tcpi_retransmits", 2, Kind.U8),
        ("tcpi_probes", 3, Kind.U8), ("tcpi_backoff", 4, Kind.U8), ("tcpi_options", 5, Kind.U8),
        ("tcpi_snd_wscale", 6, Kind.LowNibble), ("tcpi_rcv_wscale", 6, Kind.HighNibble),
        ("tcpi_rto", 8, Kind.U32), ("tcpi_ato", 12, Kind.U32), ("tcpi_snd_mss", 16, Kind.U32), ("tcpi_rcv_mss", 20, Kind.U32),
        ("tcpi_unacked", 24, Kind.U32), ("tcpi_sacked", 28, Kind.U32), ("tcpi_lost", 32, Kind.U32), ("tcpi_retrans", 36, Kind.U32),
        ("tcpi_fackets", 40, Kind.U32), ("tcpi_last_data_sent", 44, Kind.U32), ("tcpi_last_ack_sent", 48, Kind.U32),
        ("tcpi_last_data_recv", 52, Kind.U32), ("tcpi_last_ack_recv", 56, Kind.U32), ("tcpi_pmtu", 60, Kind.U32),
        ("tcpi_rcv_ssthresh", 64, Kind.U32), ("tcpi_rtt", 68, Kind.U32), ("tcpi_rttvar", 72, Kind.U32),
        ("tcpi_snd_ssthresh", 76, Kind.U32), ("tcpi_snd_cwnd", 80, Kind.U32), ("tcpi_advmss", 84, Kind.U32),
        ("tcpi_reordering", 88, Kind.U32), ("tcpi_rcv_rtt", 92, Kind.U32), ("tcpi_rcv_space", 96, Kind.U32),
        ("tcpi_total_retrans", 100, Kind.U32), ("tcpi_pacing_rate", 104, Kind.U64), ("tcpi_max_pacing_rate", 112, Kind.U64),
        ("tcpi_bytes_acked", 120, Kind.U64), ("tcpi_bytes_received", 128, Kind.U64), ("tcpi_segs_out", 136, Kind.U32),
        ("tcpi_segs_in", 140, Kind.U32), ("tcpi_notsent_bytes", 144, Kind.U32), ("tcpi_min_rtt", 148, Kind.U32),
        ("tcpi_data_segs_in", 152, Kind.U32), ("tcpi_data_segs_out", 156, Kind.U32), ("tcpi_delivery_rate", 160, Kind.U64),
        ("tcpi_busy_time", 168, Kind.U64), ("tcpi_rwnd_limited", 176, Kind.U64), ("tcpi_sndbuf_limited", 184, Kind.U64),
        ("tcpi_delivered", 192, Kind.U32), ("tcpi_delivered_ce", 196, Kind.U32), ("tcpi_bytes_sent", 200, Kind.U64),
        ("tcpi_bytes_retrans", 208, Kind.U64), ("tcpi_dsack_dups", 216, Kind.U32), ("tcpi_reord_seen", 220, Kind.U32),
        ("tcpi_rcv_ooopack", 224, Kind.U32), ("tcpi_snd_wnd", 228, Kind.U32), ("tcpi_rcv_wnd", 232, Kind.U32),
        ("tcpi_rehash", 236, Kind.U32), ("tcpi_total_rto", 240, Kind.U16), ("tcpi_total_rto_recoveries", 242, Kind.U16),
        ("tcpi_total_rto_time", 244, Kind.U32),
    ];

    /// <summary>Adds every field <paramref name="info"/> holds to <paramref name="into"/>.</summary>
    public static void Read(ReadOnlySpan<byte> info, Dictionary<string, double> into)
    {
        foreach (var (name, offset, kind) in Layout)
        {
            int size = kind switch { Kind.U32 => 4, Kind.U64 => 8, Kind.U16 => 2, _ => 1 };
            if (offset + size > info.Length) continue;
            if (name == "tcpi_state")
            {
                // Linux numbers its states its own way; the scripts' constants name the stack's (TcpInfoFields).
                into[name] = (int)LinuxState(info[offset]);
                continue;
            }
            into[name] = kind switch
            {
                Kind.U8 => info[offset],
                Kind.LowNibble => info[offset] & 0xF,
                Kind.HighNibble => info[offset] >> 4,
                Kind.U16 => BinaryPrimitives.ReadUInt16LittleEndian(info[offset..]),
                Kind.U32 => BinaryPrimitives.ReadUInt32LittleEndian(info[offset..]),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(info[offset..]),
            };
        }
    }

    /// <summary>Linux's TCP_ESTABLISHED (1) … TCP_CLOSING (11), TCP_NEW_SYN_RECV (12) as the stack's states.</summary>
    public static Synack.Tcp.TcpState LinuxState(byte state) => state switch
    {
        1 => Synack.Tcp.TcpState.Established,
        2 => Synack.Tcp.TcpState.SynSent,
        3 or 12 => Synack.Tcp.TcpState.SynReceived,
        4 => Synack.Tcp.TcpState.FinWait1,
        5 => Synack.Tcp.TcpState.FinWait2,
        6 => Synack.Tcp.TcpState.TimeWait,
        8 => Synack.Tcp.TcpState.CloseWait,
        9 => Synack.Tcp.TcpState.LastAck,
        10 => Synack.Tcp.TcpState.Listen,
        11 => Synack.Tcp.TcpState.Closing,
        _ => Synack.Tcp.TcpState.Closed,
    };

    /// <summary>True for a field name the layout knows.</summary>
    public static bool IsField(string name) => Array.Exists(Layout, f => f.Name == name);
}
