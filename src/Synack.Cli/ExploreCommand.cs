using System.CommandLine;
using System.Diagnostics;
using Synack.Explorer;

namespace Synack.Cli;

internal static class ExploreCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var port = new Option<int>("--port") { Description = "the loopback port to serve on (0: a free one)", DefaultValueFactory = _ => 5280 };
        var open = new Option<bool>("--open") { Description = "also open the page in the default browser (xdg-open)" };
        var cmd = new Command("explore", "start the explorer on loopback: the note's scenarios run on virtual time and stepped in a browser, beside the state diagram and both TCBs") { port, open };
        cmd.SetAction(async (parse, cancel) =>
        {
            int p = parse.GetValue(port);
            if (p is < 0 or > 65535)
            {
                error.WriteLine($"synack explore: --port must be 0..65535, not {p}");
                return 2;
            }
            ExplorerServer server;
            try
            {
                server = await ExplorerServer.StartAsync(p, cancellationToken: cancel);
            }
            catch (IOException ex)
            {
                error.WriteLine($"synack explore: cannot listen on 127.0.0.1:{p}: {ex.Message} (try --port 0)");
                return 1;
            }
            await using (server)
            {
                output.WriteLine($"synack explore: {server.Url} (Ctrl+C stops it)");
                if (parse.GetValue(open)) TryOpen(server.Url, error);
                try
                {
                    await Task.Delay(Timeout.Infinite, cancel);
                }
                catch (OperationCanceledException)
                {
                }
            }
            return 0;
        });
        return cmd;
    }

    private static void TryOpen(Uri url, TextWriter error)
    {
        try
        {
            using var _ = Process.Start(new ProcessStartInfo("xdg-open", url.ToString()) { UseShellExecute = false });
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            error.WriteLine($"synack explore: could not open a browser ({ex.Message}); open {url} yourself");
        }
    }
}
