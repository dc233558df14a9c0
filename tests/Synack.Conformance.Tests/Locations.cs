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
    public static string SuiteDirectory()
    {
        var suite = Path.GetFullPath(Path.Combine(RepositoryRoot(), "..", "shared", "conformance", "freebsd"));
        if (!Directory.Exists(suite))
        {
            if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException($"the conformance suite is missing at {suite}");
            Skip.If(true, $"the FreeBSD packetdrill suite is missing: put shared/conformance/freebsd at {suite} (beside the repository, as CI has it); with CI=true this fails instead");
        }
        return suite;
    }

    public static string OwnScripts() => Path.Combine(RepositoryRoot(), "conformance");
}
