using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Synack.Simulation;
using Synack.Wire;

namespace Synack.Stack.Tests;

public class ObservabilityTests
{
    private sealed class ListLogger : ILogger, ILoggerFactory
    {
        public List<(LogLevel Level, string Message)> Lines { get; } = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;
        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add((logLevel, formatter(state, exception)));
        public ILogger CreateLogger(string categoryName) => this;
        public void AddProvider(ILoggerProvider provider) { }
        public void Dispose() { }
    }

    [Fact]
    public void State_changes_and_refusals_are_logged()
    {
        var log = new ListLogger();
        var net = new SimulatedNetwork(1);
        var client = net.AddHost(new StackOptions { Name = "client", Addresses = [IpAddr.Parse("192.0.2.1")], LoggerFactory = log });
        var server = net.AddHost("server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        net.Run(async () =>
        {
            await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 9));
        }, TimeSpan.FromSeconds(5));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Debug && l.Message.Contains("CLOSED -> SYN-SENT"));
        Assert.Contains(log.Lines, l => l.Level == LogLevel.Information && l.Message.Contains("ConnectionRefused"));
    }

    [Fact]
    public void The_meter_reports_packets_and_drops()
    {
        var net = new SimulatedNetwork(1);
        var client = net.AddHost("metered-client", "192.0.2.1");
        var server = net.AddHost("metered-server", "192.0.2.2");
        net.Connect(new LinkConditions(), client, server);
        net.Run(async () =>
        {
            await Assert.ThrowsAsync<System.Net.Sockets.SocketException>(() => TcpConnection.ConnectAsync(client, IpAddr.Parse("192.0.2.2"), 9));
        }, TimeSpan.FromSeconds(5));
        var seen = new Dictionary<string, long>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "Synack.Stack") l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
        {
            string host = "", reason = "";
            foreach (var t in tags)
            {
                if (t.Key == "synack.host") host = (string)t.Value!;
                if (t.Key == "synack.drop.reason") reason = (string)t.Value!;
            }
            if (host == "metered-server") seen[$"{instrument.Name}{(reason.Length > 0 ? "/" + reason : "")}"] = value;
        });
        listener.Start();
        listener.RecordObservableInstruments();
        Assert.Equal(1, seen["synack.packets.in"]);
        Assert.Equal(1, seen["synack.resets.sent"]);
        Assert.Equal(1, seen["synack.packets.dropped/NoConnection"]);
    }
}
