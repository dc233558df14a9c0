using Synack.Tcp;
using Synack.Wire;

namespace Synack.Scenarios;

/// <summary>One side of a scenario: what its application does. A bare connection's host or an application on a stack.</summary>
public abstract class ScenarioEndpoint
{
    public abstract string Name { get; }
    public abstract IpAddr Address { get; }
    public abstract ushort Port { get; }
    public abstract TcpState State { get; }
    /// <summary>Application behaviour: close as soon as end of stream is read.</summary>
    public bool CloseOnEndOfStream { get; set; }
    public abstract void Listen();
    public abstract void Connect();
    public abstract int Send(int length, byte fill = (byte)'x');
    public abstract TcpError Shutdown();
    public abstract TcpError Close();
    public abstract void Abort();

    /// <summary>The bytes a scenario sends: <paramref name="fill"/> onwards through 26 letters, repeating.</summary>
    protected static byte[] Pattern(int length, byte fill)
    {
        var data = new byte[length];
        for (int i = 0; i < length; i++) data[i] = (byte)(fill + (i % 26));
        return data;
    }
}
