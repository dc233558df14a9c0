using Synack.Tcp;

namespace Synack.Conformance;

/// <summary>
/// The <c>tcpi_*</c> names scripts' Python reads, answered from <see cref="TcpInfo"/>, and the
/// constants they compare them with (TCP_CA_*, TCPI_OPT_*, states under FreeBSD's TCPI_ and Linux's
/// TCP_ names, both mapped to the stack's own state numbers).
/// </summary>
internal static class TcpInfoFields
{
    private static readonly Dictionary<string, Func<TcpInfo, double>> Fields = new()
    {
        ["tcpi_state"] = i => (int)i.State,
        ["tcpi_ca_state"] = i => (int)i.CongestionState,
        ["tcpi_retransmits"] = i => i.Retransmits,
        ["tcpi_probes"] = i => i.Probes,
        ["tcpi_backoff"] = i => i.Backoff,
        ["tcpi_options"] = i => (i.TimestampsNegotiated ? 1 : 0) | (i.SackNegotiated ? 2 : 0) | (i.WindowScaleNegotiated ? 4 : 0) | (i.EcnNegotiated ? 8 : 0),
        ["tcpi_snd_wscale"] = i => i.SendWindowScale,
        ["tcpi_rcv_wscale"] = i => i.ReceiveWindowScale,
        ["tcpi_rto"] = i => i.RtoMicroseconds,
        ["tcpi_snd_mss"] = i => i.SendMss,
        ["tcpi_rcv_mss"] = i => i.ReceiveMss,
        ["tcpi_advmss"] = i => i.AdvertisedMss,
        ["tcpi_unacked"] = i => i.Unacked,
        ["tcpi_sacked"] = i => i.Sacked,
        ["tcpi_lost"] = i => i.Lost,
        ["tcpi_retrans"] = i => i.Retrans,
        ["tcpi_last_data_sent"] = i => i.LastDataSentMilliseconds,
        ["tcpi_last_data_recv"] = i => i.LastDataReceivedMilliseconds,
        ["tcpi_last_ack_recv"] = i => i.LastAckReceivedMilliseconds,
        ["tcpi_rtt"] = i => i.RttMicroseconds,
        ["tcpi_rttvar"] = i => i.RttVarianceMicroseconds,
        ["tcpi_min_rtt"] = i => i.MinRttMicroseconds,
        ["tcpi_snd_ssthresh"] = i => i.SendSsthresh,
        ["tcpi_snd_cwnd"] = i => i.SendCwnd,
        ["tcpi_reordering"] = i => i.Reordering,
        ["tcpi_reord_seen"] = i => i.ReorderingSeen,
        ["tcpi_total_retrans"] = i => i.TotalRetrans,
        ["tcpi_bytes_acked"] = i => i.BytesAcked,
        ["tcpi_bytes_received"] = i => i.BytesReceived,
        ["tcpi_notsent_bytes"] = i => i.NotSentBytes,
        ["tcpi_busy_time"] = i => i.BusyMicroseconds,
        ["tcpi_rwnd_limited"] = i => i.ReceiveWindowLimitedMicroseconds,
        ["tcpi_sndbuf_limited"] = i => i.SendBufferLimitedMicroseconds,
    };

    private static readonly Dictionary<string, double> Constants = BuildConstants();

    private static Dictionary<string, double> BuildConstants()
    {
        var c = new Dictionary<string, double>
        {
            ["TCP_CA_Open"] = (int)CongestionState.Open,
            ["TCP_CA_Disorder"] = (int)CongestionState.Disorder,
            ["TCP_CA_CWR"] = (int)CongestionState.Cwr,
            ["TCP_CA_Recovery"] = (int)CongestionState.Recovery,
            ["TCP_CA_Loss"] = (int)CongestionState.Loss,
            ["TCP_INFINITE_SSTHRESH"] = TcpInfo.InfiniteSsthresh,
            ["TCPI_OPT_TIMESTAMPS"] = 1,
            ["TCPI_OPT_SACK"] = 2,
            ["TCPI_OPT_WSCALE"] = 4,
            ["TCPI_OPT_ECN"] = 8,
        };
        (string Bsd, string Linux, TcpState State)[] states =
        [
            ("CLOSED", "CLOSE", TcpState.Closed), ("LISTEN", "LISTEN", TcpState.Listen), ("SYN_SENT", "SYN_SENT", TcpState.SynSent),
            ("SYN_RECEIVED", "SYN_RECV", TcpState.SynReceived), ("ESTABLISHED", "ESTABLISHED", TcpState.Established),
            ("FIN_WAIT_1", "FIN_WAIT1", TcpState.FinWait1), ("FIN_WAIT_2", "FIN_WAIT2", TcpState.FinWait2),
            ("CLOSE_WAIT", "CLOSE_WAIT", TcpState.CloseWait), ("CLOSING", "CLOSING", TcpState.Closing),
            ("LAST_ACK", "LAST_ACK", TcpState.LastAck), ("TIME_WAIT", "TIME_WAIT", TcpState.TimeWait),
        ];
        foreach (var (bsd, linux, state) in states)
        {
            c["TCPI_" + bsd] = (int)state;
            c["TCP_" + linux] = (int)state;
        }
        return c;
    }

    public static bool IsKnown(string name) => Fields.ContainsKey(name) || Constants.ContainsKey(name) || name is "True" or "False";

    public static double Lookup(string name, TcpInfo info) =>
        Fields.TryGetValue(name, out var f) ? f(info)
        : Constants.TryGetValue(name, out var c) ? c
        : throw new UnsupportedScriptException($"Python name {name}");

    /// <summary>A constant a Python block may name (TCPI_CLOSING, TCP_CA_Open, TCP_INFINITE_SSTHRESH, True).</summary>
    public static double Constant(string name) =>
        Constants.TryGetValue(name, out var c) ? c
        : name == "True" ? 1 : name == "False" ? 0
        : throw new UnsupportedScriptException($"Python name {name}");

    /// <summary>A state number back to the name a script would use.</summary>
    public static string? ConstantName(double value, string field) =>
        field == "tcpi_state" ? Constants.FirstOrDefault(kv => kv.Key.StartsWith("TCPI_", StringComparison.Ordinal) && kv.Value == value && !kv.Key.StartsWith("TCPI_OPT", StringComparison.Ordinal)).Key
        : field == "tcpi_ca_state" ? Constants.FirstOrDefault(kv => kv.Key.StartsWith("TCP_CA_", StringComparison.Ordinal) && kv.Value == value).Key
        : null;
}
