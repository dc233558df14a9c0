namespace Synack.Conformance.Tests;

/// <summary>Where the shared FreeBSD suite and our own scripts are, seen from the test binaries.</summary>
internal static class Locations
{
    public static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Synack.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Synack.sln not found above " + AppContext.BaseDirectory);
    }

    /// <summary>../shared/conformance/freebsd beside the repository: CI has it (the test fails without it when CI=true); elsewhere the test skips.</summary>
    public static string SuiteDirectory() => Shared("freebsd", "the FreeBSD packetdrill suite");

    /// <summary>../shared/conformance/linux: Google's packetdrill scripts for Linux.</summary>
    public static string LinuxSuiteDirectory() => Shared("linux", "Google's Linux packetdrill scripts");

    private static string Shared(string name, string what)
    {
        var suite = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "conformance", name));
        if (!Directory.Exists(suite))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException($"the conformance suite is missing at {suite}");
            Skip.If(true, $"{what} are missing: put shared/conformance/{name} at {suite} (beside the repository, as CI has it); with CI=true this fails instead");
        }
        return suite;
    }

    public static string OwnScripts() => Path.Combine(RepositoryRoot(), "conformance");

    /// <summary>conformance/kernel: the minimal scripts of the divergences <c>synack diff</c> found, each the kernel's behaviour.</summary>
    public static string KernelFoundScripts() => Path.Combine(RepositoryRoot(), "conformance", "kernel");
}
