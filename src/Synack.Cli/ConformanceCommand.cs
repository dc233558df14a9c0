using System.CommandLine;
using Synack.Conformance;
using Synack.Wire;

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
        var profile = new Option<string>("--profile") { Description = "the stack configuration scripts start from: auto is Linux's for scripts in Google's dialect (they run defaults.sh), FreeBSD's for the rest (a script's --profile= line overrides it)", DefaultValueFactory = _ => "auto" };
        profile.AcceptOnlyFromAmong([.. Profiles.Names]);
        var capture = new Option<FileInfo?>("--capture") { HelpName = "file.pcapng", Description = "with one script: write its packets (injected and sent) to this pcapng file" };
        var target = new Option<string>("--target") { Description = "synack (on a virtual clock), kernel (this machine's Linux through a TUN device in a namespace of its own, in real time; root), or both: each script on both, and where Synack does not do what the kernel did", DefaultValueFactory = _ => "synack" };
        target.AcceptOnlyFromAmong("synack", "kernel", "both");
        var cmd = new Command("conformance", "run packetdrill scripts against the stack on a virtual clock, or against the Linux kernel; exit 0 only if none failed") { dir, format, verbose, profile, capture, target };
        cmd.SetAction(parse =>
        {
            try
            {
                return Run(parse);
            }
            catch (Exception e) when (e is OperationCanceledException || e is AggregateException a && a.InnerExceptions.All(i => i is OperationCanceledException))
            {
                error.WriteLine("synack conformance: interrupted; the namespaces of the run are deleted");
                return 130;
            }
        });
        return cmd;

        int Run(ParseResult parse)
        {
            var d = parse.GetValue(dir)!;
            if (parse.GetValue(target) == "both")
            {
                // Differential: is what Synack does what the kernel did, script by script?
                if (Synack.Conformance.PacketdrillRunner.WhyNotKernel() is { } whyNot)
                {
                    error.WriteLine($"synack conformance: --target both {whyNot}");
                    return 2;
                }
                if (!File.Exists(d.FullName) && !Directory.Exists(d.FullName))
                {
                    error.WriteLine($"synack conformance: {d.FullName}: no such directory or file");
                    return 2;
                }
                Profiles.TryFind(parse.GetValue(profile)!, out var heldAs); // auto: Linux 6.18's, the kernel's own
                var comparison = ConformanceSuite.Compare(d.FullName, heldAs);
                output.Write(comparison.ToText());
                return comparison.Different == 0 ? 0 : 1;
            }
            var on = parse.GetValue(target) == "kernel" ? ConformanceTarget.Kernel : ConformanceTarget.Synack;
            if (on == ConformanceTarget.Kernel && Synack.Conformance.PacketdrillRunner.WhyNotKernel() is { } why)
            {
                error.WriteLine($"synack conformance: --target kernel {why}");
                return 2;
            }
            Profiles.TryFind(parse.GetValue(profile)!, out var chosen);
            ConformanceReport report;
            var captureFile = parse.GetValue(capture);
            if (captureFile is not null && !File.Exists(d.FullName))
            {
                error.WriteLine("synack conformance: --capture takes one script, not a directory");
                return 2;
            }
            if (File.Exists(d.FullName))
            {
                PcapNgWriter? writer = null;
                try
                {
                    if (captureFile is not null) writer = new PcapNgWriter(File.Create(captureFile.FullName));
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"synack conformance: cannot write {captureFile!.FullName}: {ex.Message}");
                    return 2;
                }
                using (writer)
                {
                    report = new ConformanceReport(Path.GetDirectoryName(d.FullName)!, [PacketdrillRunner.RunFile(d.FullName, on, chosen, d.Name, writer)]);
                }
            }
            else if (Directory.Exists(d.FullName))
            {
                report = ConformanceSuite.Run(d.FullName, on, chosen);
            }
            else
            {
                error.WriteLine($"synack conformance: {d.FullName}: no such directory or file");
                return 2;
            }
            output.Write(parse.GetValue(format) == "json" ? report.ToJson() : report.ToText(parse.GetValue(verbose)));
            return report.Failed == 0 ? 0 : 1;
        }
    }
}
