namespace Synack.Tcp;

/// <summary>When a listener answers a SYN with a cookie instead of keeping state (Linux's net.ipv4.tcp_syncookies).</summary>
public enum SynCookieMode
{
    /// <summary>Never: a SYN beyond a full SYN queue is dropped, and the peer retries (tcp_syncookies=0).</summary>
    Off,
    /// <summary>When the SYN queue is full, as under a flood (tcp_syncookies=1, the default).</summary>
    WhenNeeded,
    /// <summary>For every SYN (tcp_syncookies=2, FreeBSD's syncookies_only): no SYN-RECEIVED state at all.</summary>
    Always,
}
