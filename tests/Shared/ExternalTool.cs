using System.Diagnostics;

namespace Synack.Tests.Shared;

/// <summary>
/// Runs a program the tests check us against (tshark). Missing: on CI (CI=true) the test fails, since
/// .ci/run installs it; elsewhere the test is skipped and says how to get it.
/// </summary>
internal static class ExternalTool
{
    public static string Require(string name, string package)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        string why = $"{name} is not installed (apt-get install {package})";
        if (Environment.GetEnvironmentVariable("CI") == "true") throw new InvalidOperationException(why + ", and CI=true requires it");
        Skip.If(true, why);
        return name;
    }

    public static string Run(string program, params string[] args) => Run(TimeSpan.FromSeconds(60), program, args);

    public static string Run(TimeSpan timeout, string program, params string[] args) => RunBoth(timeout, program, args).Out;

    /// <summary>Standard output and standard error both (a browser's console goes to the latter).</summary>
    public static (string Out, string Err) RunBoth(TimeSpan timeout, string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in {timeout.TotalSeconds:F0} s");
        }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', args)} exited {p.ExitCode}: {stderr.Result}");
        return (stdout.Result, stderr.Result);
    }
}
