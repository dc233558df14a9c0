using Synack.Tcp;
using Synack.Wire;

namespace Synack.Simulation;

/// <summary>One side of a scenario: what its application does. Implemented by the harness and by the real stack.</summary>
public interface IDemoEndpoint
{
    string Name { get; }
    IpAddr Address { get; }
    ushort Port { get; }
    TcpState State { get; }
    /// <summary>Application behaviour: close as soon as end of stream is read.</summary>
    bool CloseOnEndOfStream { get; set; }
    void Listen();
    void Connect();
    int Send(int length, byte fill = (byte)'x');
    TcpError Shutdown();
    TcpError Close();
    void Abort();
}

/// <summary>The wire between the two: faults aimed at chosen segments.</summary>
public interface IDemoLink
{
    bool Up { get; set; }
    void Drop(Func<SegmentInfo, bool> match, int times = 1);
    void Delay(Func<SegmentInfo, bool> match, TimeSpan by, int times = 1);
    void Inject(IDemoEndpoint from, IDemoEndpoint to, byte[] packet);
}

/// <summary>A client, a server, a link and a virtual clock; everything that happens lands in <see cref="Trace"/>.</summary>
public interface IDemoRun
{
    IDemoEndpoint Client { get; }
    IDemoEndpoint Server { get; }
    IDemoLink Link { get; }
    Trace Trace { get; }
    TimeSpan Clock { get; }
    void RunFor(TimeSpan duration);
    bool RunUntil(Func<bool> condition, TimeSpan? limit = null);
    void RunUntilIdle(TimeSpan? limit = null);
    /// <summary>Records a note in the trace (a cut cable, say).</summary>
    void Note(string who, string text);
}
