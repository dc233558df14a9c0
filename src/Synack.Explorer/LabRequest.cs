using System.Globalization;
using Microsoft.AspNetCore.Http;
using Synack.Scenarios;
using Synack.Simulation;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>
/// What a lab run is made of: the scenario, the stack profile and the link. It is all the run depends
/// on (the clock is virtual, the ISNs are the note's), so it is what the page's URL holds.
/// </summary>
internal sealed record LabRequest(string Scenario, string Profile, double Loss, int LatencyMs, int Seed, string? Timeline = null,
    double Reordering = 0, uint? ClientIsn = null, uint? ServerIsn = null, int? Mss = null, bool? WindowScaling = null, bool? Sack = null,
    bool? Timestamps = null, bool? Ecn = null)
{
    /// <summary>The scenario name of a run composed in the lab (its events are <see cref="Timeline"/>).</summary>
    public const string Composed = "custom";
    private const int LongestTimeline = 10_000;

    public static readonly string[] Profiles = ["note", "linux", "freebsd", "synack"];

    /// <summary>The request a query string asks for; anything it does not name takes the default, anything malformed is an error.</summary>
    public static LabRequest Parse(IQueryCollection q)
    {
        string scenario = q["scenario"].FirstOrDefault() ?? "combined-fin";
        string? timeline = null;
        if (scenario == Composed)
        {
            timeline = q["timeline"].FirstOrDefault() ?? "";
            if (timeline.Length > LongestTimeline) throw new LabRequestException($"the timeline is {timeline.Length} characters; at most {LongestTimeline}");
            LabTimeline.Parse(timeline); // refused here, in words, before anything runs
        }
        else if (ScenarioCatalog.Find(scenario) is null) throw new LabRequestException($"no scenario named '{scenario}'");
        string profile = q["profile"].FirstOrDefault() ?? "note";
        if (!Profiles.Contains(profile)) throw new LabRequestException($"profile '{profile}' is not one of {string.Join(", ", Profiles)}");
        double loss = Number(q, "loss", 0, 0, 0.5);
        int latency = (int)Number(q, "latency", 10, 1, 1000);
        int seed = (int)Number(q, "seed", 1, 0, int.MaxValue);
        return new LabRequest(scenario, profile, loss, latency, seed, timeline,
            Reordering: Number(q, "reorder", 0, 0, 0.5),
            ClientIsn: Isn(q, "cisn"), ServerIsn: Isn(q, "sisn"),
            Mss: q["mss"].FirstOrDefault() is { Length: > 0 } ? (int)Number(q, "mss", 1460, 88, 65495) : null,
            WindowScaling: Switch(q, "ws"), Sack: Switch(q, "sack"), Timestamps: Switch(q, "ts"), Ecn: Switch(q, "ecn"));
    }

    private static uint? Isn(IQueryCollection q, string name) =>
        q[name].FirstOrDefault() is { Length: > 0 } ? (uint)Number(q, name, 0, 0, uint.MaxValue) : null;

    /// <summary>"on" or "off" sets an option; nothing (or "profile") leaves the profile's.</summary>
    private static bool? Switch(IQueryCollection q, string name) => q[name].FirstOrDefault() switch
    {
        null or "" or "profile" => null,
        "on" or "1" or "true" => true,
        "off" or "0" or "false" => false,
        var other => throw new LabRequestException($"{name} must be on, off or profile, not '{other}'"),
    };

    private static double Number(IQueryCollection q, string name, double fallback, double min, double max)
    {
        var text = q[name].FirstOrDefault();
        if (string.IsNullOrEmpty(text)) return fallback;
        if (!double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) || double.IsNaN(v) || v < min || v > max)
            throw new LabRequestException($"{name} must be a number from {min.ToString(CultureInfo.InvariantCulture)} to {max.ToString(CultureInfo.InvariantCulture)}, not '{text}'");
        return v;
    }

    /// <summary>The client's and server's options: the scenario's own under the note's profile, else the profile's (keep-alive kept where the scenario needs it).</summary>
    public (ConnectionOptions Client, ConnectionOptions Server) Options(Scenario? s)
    {
        var baseOptions = Profile switch
        {
            "linux" => ConnectionOptions.Linux618,
            "freebsd" => ConnectionOptions.FreeBsd,
            "synack" => ConnectionOptions.Default,
            _ => ScenarioCatalog.NoteOptions,
        };
        var client = s?.ClientOptions is { } own
            ? (Profile == "note" ? own : baseOptions with { KeepAlive = own.KeepAlive, KeepAliveIdle = own.KeepAliveIdle, KeepAliveInterval = own.KeepAliveInterval, KeepAliveCount = own.KeepAliveCount })
            : baseOptions;
        return (Tuned(client, ecnRequest: true), Tuned(baseOptions, ecnRequest: false));
    }

    private ConnectionOptions Tuned(ConnectionOptions o, bool ecnRequest) => o with
    {
        Mss = Mss is int mss ? (ushort)mss : o.Mss,
        WindowScaling = WindowScaling ?? o.WindowScaling,
        Sack = Sack ?? o.Sack,
        Timestamps = Timestamps ?? o.Timestamps,
        // The note's SYN layout has no room for timestamps (its figure's 32-byte header): asked for, they take Linux's.
        SynOptionLayout = Timestamps == true && o.SynOptionLayout == TcpOptionLayout.StudyNote ? TcpOptionLayout.Linux : o.SynOptionLayout,
        // ECN is asked for by the side that connects and granted by the one that answers.
        Ecn = Ecn switch { true => ecnRequest ? EcnMode.Request : EcnMode.Accept, false => EcnMode.Off, _ => o.Ecn },
    };

    public LinkConditions Link => new() { Latency = TimeSpan.FromMilliseconds(LatencyMs), Loss = Loss, Reordering = Reordering, Seed = Seed };
}

/// <summary>A lab request the explorer cannot run, with what is wrong in words.</summary>
internal sealed class LabRequestException(string message) : Exception(message);
