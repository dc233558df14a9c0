using System.Diagnostics;
using Synack.Analysis;
using Synack.Wire;

namespace Synack.Bench;

/// <summary>
/// Packets per second analyzing a 1,000,000-packet capture, beside `tshark -q -z conv,tcp` on the same
/// file in the same run. 20,000 connections of 50 packets: handshake, 22 request/response pairs, close.
/// </summary>
public static class AnalyzeMillion
{
    public static void Run(string path)
    {
        if (!File.Exists(path)) Write(path);
        Console.WriteLine($"capture: {path} ({new FileInfo(path).Length / 1e6:F1} MB)");
        for (int round = 0; round < 2; round++)
        {
            var sw = Stopwatch.StartNew();
            var capture = CaptureReader.Read(path);
            var conversations = CaptureAnalyzer.Analyze(capture);
            sw.Stop();
            Console.WriteLine($"synack analyze: {capture.Packets.Count:N0} packets, {conversations.Count:N0} conversations in {sw.Elapsed.TotalSeconds:F2} s = {capture.Packets.Count / sw.Elapsed.TotalSeconds:N0} packets/s");
        }
        var psi = new ProcessStartInfo("tshark", ["-r", path, "-q", "-z", "conv,tcp"]) { RedirectStandardOutput = true, RedirectStandardError = true };
        var t = Stopwatch.StartNew();
        using (var p = Process.Start(psi)!)
        {
            p.StandardOutput.ReadToEnd();
            p.WaitForExit();
        }
        t.Stop();
        Console.WriteLine($"tshark -q -z conv,tcp: {t.Elapsed.TotalSeconds:F2} s = {1_000_000 / t.Elapsed.TotalSeconds:N0} packets/s");
    }

    private static void Write(string path)
    {
        using var file = File.Create(path);
        using var w = new PcapNgWriter(file);
        int iface = w.AddInterface("bench");
        var buf = new byte[200];
        var payload = new byte[60];
        long t = 0;
        var a = IpAddr.Parse("192.0.2.1");
        var b = IpAddr.Parse("192.0.2.2");
        for (int c = 0; c < 20_000; c++)
        {
            ushort port = (ushort)(10000 + c % 50000);
            uint cs = (uint)(c * 7919), ss = (uint)(c * 104729);
            void Emit(bool fromClient, TcpFlags flags, uint seq, uint ack, int len)
            {
                var h = new TcpHeader
                {
                    SourcePort = fromClient ? port : (ushort)80,
                    DestinationPort = fromClient ? (ushort)80 : port,
                    Seq = new SeqNum(seq),
                    Ack = new SeqNum(ack),
                    Flags = flags,
                    Window = 500,
                };
                if (flags.Has(TcpFlags.Syn)) { h.Options.HasMss = true; h.Options.Mss = 1460; }
                int n = TcpPacket.Write(buf, fromClient ? a : b, fromClient ? b : a, in h, TcpOptionLayout.Linux, payload.AsSpan(0, len));
                w.WritePacket(iface, buf.AsSpan(0, n), t += 1000);
            }
            Emit(true, TcpFlags.Syn, cs, 0, 0);
            Emit(false, TcpFlags.Syn | TcpFlags.Ack, ss, cs + 1, 0);
            Emit(true, TcpFlags.Ack, cs + 1, ss + 1, 0);
            uint cn = cs + 1, sn = ss + 1;
            for (int i = 0; i < 22; i++)
            {
                Emit(true, TcpFlags.Ack | TcpFlags.Psh, cn, sn, 60); cn += 60;
                Emit(false, TcpFlags.Ack | TcpFlags.Psh, sn, cn, 60); sn += 60;
            }
            Emit(true, TcpFlags.Fin | TcpFlags.Ack, cn, sn, 0);
            Emit(false, TcpFlags.Fin | TcpFlags.Ack, sn, cn + 1, 0);
            Emit(true, TcpFlags.Ack, cn + 1, sn + 1, 0);
        }
    }
}
