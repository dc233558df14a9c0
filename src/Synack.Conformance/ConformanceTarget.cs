namespace Synack.Conformance;

/// <summary>The stack a script is run against.</summary>
public enum ConformanceTarget
{
    /// <summary>Synack, on a virtual clock.</summary>
    Synack,
    /// <summary>The Linux kernel of this machine, through a TUN device in a network namespace of the run's own, in real time (root needed).</summary>
    Kernel,
}
