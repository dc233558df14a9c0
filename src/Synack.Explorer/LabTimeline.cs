using System.Globalization;
using Synack.Scenarios;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>
/// A scenario composed in the lab: one event a line, each at a time in milliseconds of virtual time.
/// Application calls: <c>T client|server listen | connect | send N | shutdown | close | abort | read |
/// noread | keepalive on [IDLE INTERVAL COUNT] | keepalive off</c>. Link events, armed at T for the next
/// matching segment (or the n-th): <c>T link drop|duplicate|delay MS FROM&gt;TO [syn|synack|ack|data|fin|rst|any] [nth N]</c>,
/// and <c>T link partition MS</c> (the link down for MS). Anything else is refused with its line number.
/// </summary>
internal static class LabTimeline
{
    public const int MaxEvents = 200;
    private static readonly TimeSpan Latest = TimeSpan.FromHours(1);

    /// <summary>The example the page offers: a simultaneous open, then a simultaneous close whose last ACK is lost.</summary>
    public const string Example = "0 client connect\n0 server connect\n100 client close\n100 server close\n100 link drop server>client ack";

    public static Action<ScenarioRun> Parse(string text)
    {
        var lines = text.Replace("\r", "", StringComparison.Ordinal).Split(['\n', ';'], StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length == 0) throw new LabRequestException("the timeline is empty: one event a line, e.g. '0 client connect'");
        if (lines.Length > MaxEvents) throw new LabRequestException($"the timeline has {lines.Length} events; at most {MaxEvents}");
        var events = new List<(TimeSpan At, Action<BareRun> Do)>();
        for (int i = 0; i < lines.Length; i++)
        {
            try
            {
                events.Add(Event(lines[i].Split(' ', StringSplitOptions.RemoveEmptyEntries)));
            }
            catch (LabRequestException ex)
            {
                throw new LabRequestException($"timeline line {i + 1} ('{lines[i]}'): {ex.Message}");
            }
        }
        return run =>
        {
            var bare = (BareRun)run;
            foreach (var (at, act) in events) run.Schedule(at, () => act(bare));
            // Until nothing is left to happen, an hour and ten minutes of virtual time, or more events than a page is sent.
            run.RunUntil(() => run.Trace.Entries.Count >= LabRun.MaxSteps, Latest + TimeSpan.FromMinutes(10));
        };
    }

    private static (TimeSpan, Action<BareRun>) Event(string[] w)
    {
        if (w.Length < 2) throw new LabRequestException("a time and what happens");
        if (!double.TryParse(w[0], NumberStyles.Float, CultureInfo.InvariantCulture, out var ms) || ms < 0 || ms > Latest.TotalMilliseconds)
            throw new LabRequestException($"'{w[0]}' is not a time in milliseconds from 0 to {Latest.TotalMilliseconds}");
        var at = TimeSpan.FromMilliseconds(ms);
        if (w[1] == "link") return (at, Link(w));
        if (w[1] is not ("client" or "server")) throw new LabRequestException($"'{w[1]}' is not client, server or link");
        bool client = w[1] == "client";
        BareEndpoint Who(BareRun r) => client ? r.Client : r.Server;
        string verb = w.Length > 2 ? w[2] : "";
        Action<BareRun> act = verb switch
        {
            "listen" => r => Who(r).Listen(),
            "connect" => r => Who(r).Connect(),
            "send" => Send(w, Who),
            "shutdown" => r => Who(r).Shutdown(),
            "close" => r => Who(r).Close(),
            "abort" => r => Who(r).Abort(),
            "read" => r => { var e = Who(r); e.AutoRead = true; e.Read(); },
            "noread" => r => Who(r).AutoRead = false,
            "keepalive" => KeepAlive(w, Who),
            _ => throw new LabRequestException($"'{verb}' is not listen, connect, send N, shutdown, close, abort, read, noread or keepalive"),
        };
        return (at, act);
    }

    private static Action<BareRun> Send(string[] w, Func<BareRun, BareEndpoint> who)
    {
        if (w.Length < 4 || !int.TryParse(w[3], NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n is < 1 or > 1_000_000)
            throw new LabRequestException("send takes a byte count from 1 to 1000000");
        return r => who(r).Send(n);
    }

    private static Action<BareRun> KeepAlive(string[] w, Func<BareRun, BareEndpoint> who)
    {
        string onOff = w.Length > 3 ? w[3] : "";
        if (onOff == "off") return r => who(r).Connection?.SetKeepAlive(false, r.Clock);
        if (onOff != "on") throw new LabRequestException("keepalive on [IDLE INTERVAL COUNT] or keepalive off");
        double idle = w.Length > 4 ? Number(w[4], 1, 7_200_000) : 10_000;
        double interval = w.Length > 5 ? Number(w[5], 1, 7_200_000) : 2_000;
        int count = w.Length > 6 ? (int)Number(w[6], 1, 127) : 3;
        return r =>
        {
            if (who(r).Connection is not { } c) return;
            c.SetKeepAliveTimes(TimeSpan.FromMilliseconds(idle), TimeSpan.FromMilliseconds(interval), count, r.Clock);
            c.SetKeepAlive(true, r.Clock);
        };
    }

    private static Action<BareRun> Link(string[] w)
    {
        string verb = w.Length > 2 ? w[2] : "";
        if (verb == "partition")
        {
            double ms = w.Length > 3 ? Number(w[3], 1, Latest.TotalMilliseconds) : throw new LabRequestException("partition takes a duration in milliseconds");
            return r =>
            {
                r.Note("link", $"the link goes down for {ms} ms");
                r.Link.Up = false;
                r.Schedule(r.Clock + TimeSpan.FromMilliseconds(ms), () => { r.Link.Up = true; r.Note("link", "the link is back"); });
            };
        }
        int i = 3;
        double delayMs = 0;
        if (verb == "delay")
        {
            delayMs = w.Length > 3 ? Number(w[3], 1, 60_000) : throw new LabRequestException("delay takes milliseconds");
            i = 4;
        }
        else if (verb is not ("drop" or "duplicate")) throw new LabRequestException($"'{verb}' is not drop, duplicate, delay MS or partition MS");
        if (w.Length <= i || w[i].Split('>') is not [var from, var to] || from is not ("client" or "server") || to is not ("client" or "server") || from == to)
            throw new LabRequestException("name the direction: client>server or server>client");
        string kind = w.Length > i + 1 ? w[i + 1] : "any";
        int nth = 1;
        if (w.Length > i + 3 && w[i + 2] == "nth") nth = (int)Number(w[i + 3], 1, 10_000);
        else if (w.Length > i + 2) throw new LabRequestException($"unexpected '{w[i + 2]}' (nth N?)");
        Func<SegmentInfo, bool> kindMatch = kind switch
        {
            "any" => _ => true,
            "syn" => s => s.Is(TcpFlags.Syn),
            "synack" => s => s.Has(TcpFlags.Syn | TcpFlags.Ack),
            "ack" => s => s.IsPureAck,
            "data" => s => s.Length > 0,
            "fin" => s => s.Has(TcpFlags.Fin),
            "rst" => s => s.Has(TcpFlags.Rst),
            _ => throw new LabRequestException($"'{kind}' is not syn, synack, ack, data, fin, rst or any"),
        };
        return r =>
        {
            int seen = 0;
            bool Match(SegmentInfo s) => s.From == from && kindMatch(s) && ++seen == nth;
            r.Note("link", $"armed: {verb}{(verb == "delay" ? $" {delayMs} ms" : "")} the {Ordinal(nth)} {kind} segment {from}>{to}");
            if (verb == "drop") r.Link.Drop(Match);
            else if (verb == "duplicate") r.Link.Duplicate(Match);
            else r.Link.Delay(Match, TimeSpan.FromMilliseconds(delayMs));
        };
    }

    private static string Ordinal(int n) => n == 1 ? "next" : $"{n}th";

    private static double Number(string text, double min, double max)
    {
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || v < min || v > max)
            throw new LabRequestException($"'{text}' is not a number from {min} to {max}");
        return v;
    }
}
