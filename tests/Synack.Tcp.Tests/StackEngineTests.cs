using Synack.Scenarios;

namespace Synack.Tcp.Tests;

/// <summary>
/// The same scenarios on one simulated network with two kinds of endpoint: bare connections (the
/// sans-I/O state machine alone) and the real stack (NetworkStack, socket API). The segments and the
/// states after each must agree: the stack's demultiplexing, listener, TIME-WAIT table and sockets add nothing.
/// </summary>
public class StackEngineTests
{
    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var s in ScenarioCatalog.All) d.Add(s.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_stack_draws_the_same_ladder_as_bare_connections(string name)
    {
        var scenario = ScenarioCatalog.Find(name)!;
        var bare = scenario.RunBare();
        var stack = scenario.RunOnStacks();
        var expected = Ladder.Build(bare.Trace, includeCalls: false, includeTimers: false).Select(r => $"{r.Time.TotalMilliseconds} {r}").ToArray();
        var actual = Ladder.Build(stack.Trace, includeCalls: false, includeTimers: false).Select(r => $"{r.Time.TotalMilliseconds} {r}").ToArray();
        Assert.Equal(expected, actual);
        Assert.Equal(bare.Trace.StatesOf("client"), stack.Trace.StatesOf("client"));
        Assert.Equal(bare.Trace.StatesOf("server"), stack.Trace.StatesOf("server"));
    }
}
