using BenchmarkDotNet.Attributes;
using Synack.Scenarios;
using Synack.Tcp;

namespace Synack.Bench;

/// <summary>
/// A whole connection's life on the simulated link: handshake, 1 MiB one way, close. Measures the
/// protocol engine plus the harness (which serialises every segment to real IP packets).
/// </summary>
[MemoryDiagnoser]
public class TransferBenchmarks
{
    private readonly byte[] _data = new byte[1 << 20];

    [Benchmark]
    public int HandshakeMegabyteClose()
    {
        var sim = new BareRun();
        sim.Server.Listen();
        sim.Client.Connect();
        int sent = 0;
        sim.Client.OnEvent = (ep, e) => { if (e == ConnectionEvent.SendSpaceAvailable && sent < _data.Length) sent += ep.Send(_data.AsSpan(sent)); };
        sim.RunFor(TimeSpan.FromMilliseconds(50));
        sent += sim.Client.Send(_data);
        sim.RunUntil(() => sim.Server.ReceivedCount == _data.Length, TimeSpan.FromMinutes(1));
        sim.Client.Close();
        sim.Server.CloseOnEndOfStream = true;
        sim.RunUntilIdle();
        return sim.Trace.Entries.Count;
    }
}
