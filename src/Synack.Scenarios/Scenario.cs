using Synack.Simulation;
using Synack.Stack;
using Synack.Tcp;

namespace Synack.Scenarios;

/// <summary>A named run of the behaviours in docs/scenarios.md: the demo shows it, the tests assert it.</summary>
/// <param name="Note">Which of the scenarios of docs/scenarios.md (S1..S11) it shows.</param>
public sealed record Scenario(string Name, string Note, string Description, Action<ScenarioRun> Body, ConnectionOptions? ClientOptions = null)
{
    /// <summary>Runs the scenario on two bare connections (no stack around them).</summary>
    public BareRun RunBare(LinkConditions? link = null)
    {
        var run = ScenarioCatalog.NewNotePair(ClientOptions, link: link);
        Body(run);
        return run;
    }

    /// <summary>Runs the scenario on two stacks, the applications on the socket API.</summary>
    public StackRun RunOnStacks(LinkConditions? link = null)
    {
        var run = StackRun.ForScenario(this, link);
        Body(run);
        return run;
    }
}
