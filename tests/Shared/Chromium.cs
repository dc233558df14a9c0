using System.Text.RegularExpressions;

namespace Synack.Tests.Shared;

/// <summary>Headless Chromium, as the HTML tests drive it: load a page (its body tag, what its console said), take its picture.</summary>
internal sealed class Chromium : IDisposable
{
    private readonly string _program;
    private readonly string _profile = Path.Combine(Path.GetTempPath(), $"synack-chromium-{Guid.NewGuid():N}");

    public Chromium() => _program = ExternalTool.Require("chromium", "chromium");

    private string[] Common => ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-logging=stderr", "--v=0", $"--user-data-dir={_profile}"];

    /// <summary>The page's &lt;body&gt; tag after its scripts ran (they set data- attributes on it), and the browser's log.</summary>
    public (string Body, string Console) Load(string page)
    {
        var (dom, console) = ExternalTool.RunBoth(TimeSpan.FromSeconds(60), _program, [.. Common, "--dump-dom", "file://" + page]);
        return (Regex.Match(dom, "<body[^>]*>").Value, console);
    }

    public void Screenshot(string page, string png, int width, int height) =>
        ExternalTool.Run(_program, [.. Common, $"--window-size={width},{height}", "--hide-scrollbars", "--screenshot=" + png, "file://" + page]);

    /// <summary>Where a test's pictures go: the repository's docs/ when SYNACK_WRITE_DOCS=1 (to refresh them), else <paramref name="scratch"/>.</summary>
    public static string PictureDirectory(string scratch)
    {
        if (Environment.GetEnvironmentVariable("SYNACK_WRITE_DOCS") != "1") return scratch;
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
        {
            if (File.Exists(Path.Combine(d.FullName, "Synack.sln"))) return Path.Combine(d.FullName, "docs");
        }
        throw new DirectoryNotFoundException("the repository's docs/");
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
