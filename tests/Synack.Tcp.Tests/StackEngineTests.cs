using Synack.Simulation;
using Synack.Tcp;

namespace Synack.Tcp.Tests;

/// <summary>
/// The same scenarios on two engines: the harness (sans-I/O connections on a scripted link) and the
/// real stack (NetworkStack, socket API, MemoryLink). The segments and the states after each must agree.
/// </summary>
public class StackEngineTests
{
    public static TheoryData<string> Names()
    {
        var d = new TheoryData<string>();
        foreach (var s in Scenarios.All) d.Add(s.Name);
        return d;
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void The_stack_draws_the_same_ladder_as_the_harness(string name)
    {
        var scenario = Scenarios.Find(name)!;
        var harness = scenario.Run();
        var stack = StackRun.ForScenario(scenario);
        scenario.Body(stack);
        var expected = Ladder.Build(harness.Trace, includeCalls: false, includeTimers: false).Select(r => $"{r.Time.TotalMilliseconds} {r}").ToArray();
        var actual = Ladder.Build(stack.Trace, includeCalls: false, includeTimers: false).Select(r => $"{r.Time.TotalMilliseconds} {r}").ToArray();
        Assert.Equal(expected, actual);
        Assert.Equal(harness.Trace.StatesOf("client"), stack.Trace.StatesOf("client"));
        Assert.Equal(harness.Trace.StatesOf("server"), stack.Trace.StatesOf("server"));
    }
}
