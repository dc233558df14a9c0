namespace Synack.Cli.Tests;

/// <summary>The `synack` command line run in-process, as a person would see it: exit code, standard output, standard error.</summary>
internal static class Cli
{
    public static (int Exit, string Out, string Err) Run(params string[] args)
    {
        var o = new StringWriter();
        var e = new StringWriter();
        int code = CliApp.Run(args, o, e);
        return (code, o.ToString(), e.ToString());
    }
}
