using System.CommandLine;
using Synack.Conformance;

namespace Synack.Cli;

/// <summary>`synack conformance DIR`: runs packetdrill scripts against the stack on a virtual clock.</summary>
internal static class ConformanceCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var dir = new Argument<FileSystemInfo>("dir") { Description = "a directory of packetdrill .pkt scripts (searched recursively), or one script" };
        var format = new Option<string>("--format") { Description = "text or json", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json");
        var verbose = new Option<bool>("--verbose", "-v") { Description = "also list how each script's settings were mapped, and a transcript of each failure" };
        var profile = new Option<string>("--profile") { Description = "the stack configuration scripts start from (a script's --profile= line overrides it)", DefaultValueFactory = _ => "freebsd" };
        profile.AcceptOnlyFromAmong([.. Profiles.Names]);
        var cmd = new Command("conformance", "run packetdrill scripts against the stack on a virtual clock; exit 0 only if none failed") { dir, format, verbose, profile };
        cmd.SetAction(parse =>
        {
            var d = parse.GetValue(dir)!;
            var chosen = Profiles.Find(parse.GetValue(profile)!);
            ConformanceReport report;
            if (File.Exists(d.FullName))
            {
                report = new ConformanceReport(Path.GetDirectoryName(d.FullName)!, [PacketdrillRunner.RunFile(d.FullName, chosen, d.Name)]);
            }
            else if (Directory.Exists(d.FullName))
            {
                report = ConformanceSuite.Run(d.FullName, chosen);
            }
            else
            {
                error.WriteLine($"synack conformance: {d.FullName}: no such directory or file");
                return 2;
            }
            output.Write(parse.GetValue(format) == "json" ? report.ToJson() : report.ToText(parse.GetValue(verbose)));
            return report.Failed == 0 ? 0 : 1;
        });
        return cmd;
    }
}
