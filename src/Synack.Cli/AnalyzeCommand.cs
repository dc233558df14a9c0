using System.CommandLine;
using Synack.Analysis;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>`synack analyze FILE`: any pcap or pcapng, as conversations with inferred endpoint states.</summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var file = new Argument<FileInfo>("file") { Description = "a pcap or pcapng capture" };
        var format = new Option<string>("--format") { Description = "text, json, mermaid or html", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "mermaid", "html");
        var outPath = new Option<FileInfo?>("--out") { Description = "write here instead of standard output" };
        var stream = new Option<int?>("--stream") { Description = "only this conversation (tcp.stream number)" };
        var cmd = new Command("analyze", "read a capture and show each TCP conversation with both endpoints' inferred states") { file, format, outPath, stream };
        cmd.SetAction(parse =>
        {
            var f = parse.GetValue(file)!;
            if (!f.Exists)
            {
                error.WriteLine($"synack analyze: {f.FullName}: no such file");
                return 2;
            }
            var capture = CaptureReader.Read(f.FullName);
            if (capture.Packets.Count == 0 && capture.Error is not null)
            {
                error.WriteLine($"synack analyze: {f.Name}: {capture.Error}");
                return 1;
            }
            var conversations = CaptureAnalyzer.Analyze(capture);
            if (parse.GetValue(stream) is int n) conversations = conversations.Where(c => c.Stream == n).ToList();
            var text = parse.GetValue(format) switch
            {
                "json" => AnalysisRenderer.Json(conversations),
                "mermaid" => LadderHtml.Mermaid(conversations),
                "html" => LadderHtml.Render(conversations, f.Name),
                _ => AnalysisRenderer.Text(conversations),
            };
            if (parse.GetValue(outPath) is FileInfo o)
            {
                try
                {
                    File.WriteAllText(o.FullName, text);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    error.WriteLine($"synack analyze: cannot write {o.FullName}: {ex.Message}");
                    return 1;
                }
            }
            else
            {
                output.Write(text);
            }
            if (capture.Error is not null)
            {
                error.WriteLine($"synack analyze: {f.Name}: {capture.Error}; showed the {capture.Packets.Count} packets before it");
                return 1;
            }
            return 0;
        });
        return cmd;
    }
}
