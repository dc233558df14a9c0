using System.CommandLine;
using Synack.Conformance;

namespace Synack.Cli;

/// <summary>`synack conformance DIR`: runs packetdrill scripts against the stack on a virtual clock.</summary>
internal static class ConformanceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var dir = new Argument<DirectoryInfo>("dir") { Description = "a directory of packetdrill .pkt scripts (searched recursively)" };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "also list how each script's sysctl settings were mapped" };
        var cmd = new Command("conformance", "run packetdrill scripts (FreeBSD profile) against the stack; exit 0 only if none failed") { dir, format, verbose };
        cmd.SetAction(parse =>
        {
            var d = parse.GetValue(dir)!;
            if (!d.Exists)
            {
                error.WriteLine($"synack conformance: {d.FullName}: no such directory");
                return 2;
            }
            var report = ConformanceSuite.Run(d.FullName);
            output.Write(parse.GetValue(format) == "json" ? report.ToJson() : report.ToText(parse.GetValue(verbose)));
            return report.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
