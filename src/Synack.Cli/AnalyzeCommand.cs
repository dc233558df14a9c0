using System.CommandLine;
using System.Text;
using Synack.Analysis;
using Synack.Wire;

namespace Synack.Cli;

/// <summary>
/// `synack analyze FILE|-`: any pcap or pcapng (gzip- or zstd-compressed too, or a pipe), as conversations
/// with inferred endpoint states. Exit codes: 0 the whole capture was read; 1 it is damaged, cut short or
/// not a capture (one line on standard error says which file, at which byte, what was wrong); 2 the
/// command itself could not run (no such file, an output that cannot be written).
/// </summary>
internal static class AnalyzeCommand
{
    public static Command Create(TextWriter output, TextWriter error, Stream? standardInput = null)
    {
        var file = new Argument<string>("file") { Description = "a pcap or pcapng capture, optionally .gz or .zst; - reads standard input" };
        var format = new Option<string>("--format") { Description = "text, json, mermaid or html", DefaultValueFactory = _ => "text" };
        format.AcceptOnlyFromAmong("text", "json", "mermaid", "html");
        var outPath = new Option<FileInfo?>("--out") { Description = "write here instead of standard output" };
        var stream = new Option<int?>("--stream") { Description = "only this conversation (tcp.stream number)" };
        var partial = new Option<bool>("--partial") { Description = "when the file is damaged, still write the analysis of what came before the damage to --out" };
        var checksums = new Option<bool>("--check-checksums") { Description = "verify TCP checksums and mark the bad ones (Wireshark's tcp.check_checksum)" };
        var cmd = new Command("analyze", "read a capture and show each TCP conversation with both endpoints' inferred states") { file, format, outPath, stream, partial, checksums };
        cmd.SetAction(parse =>
        {
            string path = parse.GetValue(file)!;
            string name = path == "-" ? "standard input" : path;
            Stream input;
            try
            {
                input = path == "-" ? standardInput ?? Console.OpenStandardInput() : File.OpenRead(path);
            }
            catch (FileNotFoundException)
            {
                error.WriteLine($"synack analyze: {Path.GetFullPath(path)}: no such file");
                return 2;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"synack analyze: {name}: cannot read: {ex.Message}");
                return 2;
            }
            using var reader = CaptureReader.Open(input);
            if (reader.Format == "unknown")
            {
                error.WriteLine($"synack analyze: {name}: {reader.Error}");
                return 1;
            }
            var options = new AnalysisOptions { Stream = parse.GetValue(stream), VerifyChecksums = parse.GetValue(checksums) };
            var kind = parse.GetValue(format)!;
            var target = parse.GetValue(outPath);
            // Written straight to the target (a device or a pipe must stay what it is: never replaced by a
            // rename); when the capture is damaged and --partial was not given, what was written is taken back.
            bool existed = target is not null && File.Exists(target.FullName);
            AnalysisSummary summary;
            try
            {
                using (var sink = target is null ? null : new FileStream(target.FullName, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16))
                {
                    summary = Write(reader, options, kind, sink, output, path == "-" ? null : Path.GetFileName(path));
                    if (sink is not null && summary.Error is not null && !parse.GetValue(partial) && existed) TakeBack(sink);
                }
                if (target is not null && summary.Error is not null && !parse.GetValue(partial) && !existed) File.Delete(target.FullName);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"synack analyze: cannot write {target?.FullName ?? "standard output"}: {ex.Message}");
                return 2;
            }
            if (summary.Error is not null)
            {
                error.WriteLine($"synack analyze: {name}: {summary.Error}; " + (target is not null && !parse.GetValue(partial)
                    ? $"nothing written ({summary.Frames} frames were readable before it; --partial writes their analysis)"
                    : $"analyzed the {summary.Frames} frames before it"));
                return 1;
            }
            return 0;
        });
        return cmd;
    }

    /// <summary>Empties a regular file; a device or a pipe keeps what it was sent (there is no taking that back).</summary>
    private static void TakeBack(FileStream sink)
    {
        try
        {
            if (sink.CanSeek) sink.SetLength(0);
        }
        catch (IOException)
        {
        }
    }

    private static AnalysisSummary Write(CaptureReader reader, AnalysisOptions options, string kind, Stream? sink, TextWriter output, string? fileName)
    {
        // The process's own standard output is written as bytes, buffered: Console.Out flushes every line.
        using var stdout = sink is null && ReferenceEquals(output, Console.Out) ? new BufferedStream(Console.OpenStandardOutput(), 1 << 16) : null;
        sink ??= stdout;
        switch (kind)
        {
            case "json":
                {
                    var stream = sink ?? new TextWriterStream(output);
                    using var json = new JsonAnalysisWriter(stream, fileName, reader.Format, reader.Compression);
                    var s = CaptureAnalyzer.Run(reader, options, json);
                    stream.Flush();
                    return s;
                }
            case "text":
                {
                    using var w = sink is null ? null : new StreamWriter(sink, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                    return CaptureAnalyzer.Run(reader, options, new TextAnalysisWriter(w ?? output));
                }
            default:
                {
                    // The report and the diagrams draw sketches of the first conversations: bounded, whatever the file.
                    using var w = sink is null ? null : new StreamWriter(sink, new UTF8Encoding(false), 1 << 16, leaveOpen: true);
                    return CaptureAnalyzer.Run(reader, options, new DiagramAnalysisWriter(w ?? output, fileName ?? "standard input", mermaid: kind == "mermaid"));
                }
        }
    }

}
