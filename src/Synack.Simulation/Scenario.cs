using Synack.Stack;
using Synack.Tcp;

namespace Synack.Simulation;

/// <summary>A named run of the study note's behaviours: the demo shows it, the tests assert it.</summary>
/// <param name="Note">Which of the study note's scenarios (S1..S11) it shows.</param>
public sealed record Scenario(string Name, string Note, string Description, Action<ScenarioRun> Body, ConnectionOptions? ClientOptions = null)
{
    /// <summary>Runs the scenario on two bare connections (no stack around them).</summary>
    public BareRun RunBare(LinkOptions? link = null)
    {
        var run = Scenarios.NewNotePair(ClientOptions, link: link);
        Body(run);
        return run;
    }

    /// <summary>Runs the scenario on two stacks, the applications on the socket API.</summary>
    public StackRun RunOnStacks(LinkOptions? link = null)
    {
        var run = StackRun.ForScenario(this, link);
        Body(run);
        return run;
    }
}
