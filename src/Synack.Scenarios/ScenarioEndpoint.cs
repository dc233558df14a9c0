using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>One side of a scenario: what its application does. A bare connection's host or an application on a stack.</summary>
public abstract class ScenarioEndpoint
{
    /// <summary>The endpoint's name in the trace.</summary>
    public abstract string Name { get; }
    /// <summary>The endpoint's address.</summary>
    public abstract IpAddr Address { get; }
    /// <summary>The endpoint's port.</summary>
    public abstract ushort Port { get; }
    /// <summary>The connection's state now.</summary>
    public abstract TcpState State { get; }
    /// <summary>Application behaviour: close as soon as end of stream is read.</summary>
    public bool CloseOnEndOfStream { get; set; }
    /// <summary>Passive OPEN.</summary>
    public abstract void Listen();
    /// <summary>Active OPEN to the peer.</summary>
    public abstract void Connect();
    /// <summary>SEND of <paramref name="length"/> bytes of <paramref name="fill"/>; returns the bytes accepted.</summary>
    public abstract int Send(int length, byte fill = (byte)'x');
    /// <summary>Shuts down sending (a FIN).</summary>
    public abstract TcpError Shutdown();
    /// <summary>CLOSE.</summary>
    public abstract TcpError Close();
    /// <summary>ABORT (a RST).</summary>
    public abstract void Abort();

    /// <summary>The bytes a scenario sends: <paramref name="fill"/> onwards through 26 letters, repeating.</summary>
    protected static byte[] Pattern(int length, byte fill)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(fill + (i % 26));
        return data;
    }
}
