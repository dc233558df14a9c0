namespace Synack.Tcp;

/// <summary>
/// What every controller keeps the same way: cwnd and ssthresh in bytes, the segment size, the cap
/// (twice the send buffer: more could not be used), and the mechanics the sender drives whatever the
/// controller — PRR's window, the end of a reduction, the restart after idle.
/// </summary>
internal abstract class CongestionWindow(int initialWindowSegments, int sendBufferSize)
{
    protected readonly uint Cap = (uint)sendBufferSize * 2;
    protected readonly int InitialWindowSegments = initialWindowSegments;
    protected uint Cwnd, Ssthresh;
    protected uint Mss = 536;

    public uint Window => Cwnd;
    public uint SlowStartThreshold => Ssthresh;

    public virtual void Start(int mss)
    {
        Mss = (uint)mss;
        Cwnd = (uint)(InitialWindowSegments * mss);
        Ssthresh = uint.MaxValue;
    }

    public void SetMss(int mss) => Mss = (uint)mss;

    public void SetWindow(uint cwnd) => Cwnd = Math.Clamp(cwnd, Mss, Math.Max(Cap, Mss));

    /// <summary>Linux's tcp_cwnd_restart: ssthresh becomes tcp_current_ssthresh, at least three quarters of the old window (an infinite one stays so).</summary>
    public void Restart(uint cwnd)
    {
        Ssthresh = Math.Max(Ssthresh, Cwnd / 4 * 3);
        Cwnd = Math.Max(cwnd, Mss);
    }

    public void EndReduction()
    {
        if (Ssthresh != uint.MaxValue) Cwnd = Ssthresh;
    }

    public virtual void Undo(uint priorCwnd, uint priorSsthresh)
    {
        Cwnd = Math.Clamp(Math.Max(Cwnd, priorCwnd), Mss, Math.Max(Cap, Mss));
        Ssthresh = Math.Max(Ssthresh, priorSsthresh);
    }
}
