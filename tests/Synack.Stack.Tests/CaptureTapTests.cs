using Synack.Simulation;
using Synack.Tests.Shared;
using Synack.Wire;

namespace Synack.Stack.Tests;

public class CaptureTapTests
{
    private static readonly IpAddr ServerAddress = IpAddr.Parse("192.0.2.2");

    private static (string File, NetworkStack Client) CapturedTransfer(double loss, int seed)
    {
        var file = Path.Combine(Path.GetTempPath(), $"synack-tap-{Guid.NewGuid():N}.pcapng");
        var net = new SimulatedNetwork(seed);
        var client = net.AddHost("client", "192.0.2.1");
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions { Loss = loss, Seed = seed }, client, server);
        using (var tap = new CaptureTap(File.Create(file)))
        {
            tap.Attach(client);
            var listener = TcpListener.Start(server, 80);
            net.Run(async () =>
            {
                var accept = listener.AcceptAsync();
                var c = await TcpConnection.ConnectAsync(client, ServerAddress, 80);
                var s = await accept;
                await c.WriteAsync(new byte[200_000]);
                c.ShutdownSend();
                var buf = new byte[65536];
                while (await s.ReadAsync(buf) > 0) { }
                await s.CloseAsync();
                await c.ReadAsync(buf);
                await c.CloseAsync();
            }, TimeSpan.FromMinutes(5));
            net.RunFor(TimeSpan.FromSeconds(61));
        }
        return (file, client);
    }

    private static string[][] Tshark(string file, params string[] fields)
    {
        var tshark = ExternalTool.Require("tshark", "tshark");
        var args = new List<string> { "-r", file, "-n", "-T", "fields", "-E", "separator=/t" };
        foreach (var f in fields) { args.Add("-e"); args.Add(f); }
        return ExternalTool.Run(tshark, [.. args]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToArray();
    }

    [SkippableFact]
    public void A_lossless_capture_shows_the_handshake_options_directions_and_no_retransmission()
    {
        var (file, _) = CapturedTransfer(0, 1);
        try
        {
            var rows = Tshark(file, "tcp.flags.str", "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm", "tcp.options.timestamp.tsval", "tcp.analysis.retransmission", "frame.comment", "pkt_comment", "frame.interface_name", "tcp.checksum.status", "frame.p2p_dir");
            Assert.True(rows.Length > 100);
            Assert.Equal("1460", rows[0][1]);
            Assert.Equal("7", rows[0][2]); // a receive buffer that may grow to 6 MiB: shift 7
            Assert.NotEqual("", rows[0][3]);
            Assert.NotEqual("", rows[0][4]);
            Assert.All(rows, r => Assert.Equal("", r[5]));
            Assert.All(rows, r => Assert.Equal("client", r[8]));
            var comments = string.Join(" ", rows.Select(r => r[6] + r[7]));
            Assert.Contains("CLOSED -> SYN-SENT", comments);
            Assert.Contains("SYN-SENT -> ESTABLISHED", comments);
            Assert.Contains("-> TIME-WAIT", comments);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [SkippableFact]
    public void On_a_lossy_link_tshark_counts_the_retransmissions_the_stack_counted()
    {
        var (file, client) = CapturedTransfer(0.03, 2);
        try
        {
            // Wireshark calls a resent segment "out of order" rather than a retransmission when it follows
            // the previous one closely (a hole resent at once on a partial ACK); in the sender's own capture
            // nothing it sends can be reordered, so those count too.
            var rows = Tshark(file, "ip.src", "tcp.analysis.retransmission", "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission", "tcp.analysis.out_of_order");
            int theirs = rows.Count(r => r[0] == "192.0.2.1" && (r[1] != "" || r[2] != "" || r[3] != "" || r[4] != ""));
            Assert.True(client.Statistics.RetransmittedSegments > 0);
            Assert.Equal(client.Statistics.RetransmittedSegments, theirs);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
