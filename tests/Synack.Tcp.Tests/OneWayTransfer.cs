using System.Security.Cryptography;
using Synack.Scenarios;
using Synack.Simulation;
using Synack.Stack;

namespace Synack.Tcp.Tests;

/// <summary>
/// A bulk transfer from client to server on the simulated link: connected, then random bytes written
/// as fast as the send buffer takes them; <see cref="Finish"/> runs it to the end and checks every byte.
/// What happens on the way (a stall, a reordered segment) is the test's to arrange between the two.
/// </summary>
internal sealed class OneWayTransfer
{
    private readonly byte[] _data;
    private int _sent;

    public OneWayTransfer(ConnectionOptions options, LinkConditions link, int size, int seed)
    {
        Sim = new BareRun(options, options, link: link);
        Sim.Server.Listen();
        Sim.Client.Connect();
        Sim.RunFor(TimeSpan.FromMilliseconds(300)); // the handshake, on any of the links used here
        _data = new byte[size];
        new Random(seed).NextBytes(_data);
        Sim.Client.OnEvent = (ep, e) => { if (e == ConnectionEvent.SendSpaceAvailable && _sent < _data.Length) _sent += ep.Send(_data.AsSpan(_sent)); };
        Started = Sim.Client.Now;
        _sent += Sim.Client.Send(_data);
    }

    public BareRun Sim { get; }
    public TimeSpan Started { get; }
    public Connection Sender => Sim.Client.Connection!;
    public Connection Receiver => Sim.Server.Connection!;

    /// <summary>Runs until every byte has arrived (failing if it stalls) and checks them; returns when that was.</summary>
    public TimeSpan Finish(TimeSpan limit)
    {
        Assert.True(Sim.RunUntil(() => Sim.Server.ReceivedCount == _data.Length, limit), "the transfer stalled");
        Assert.Equal(SHA256.HashData(_data), SHA256.HashData(Sim.Server.ReceivedBytes));
        return Sim.Client.Now;
    }
}
