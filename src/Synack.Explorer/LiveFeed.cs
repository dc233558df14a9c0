using System.Threading.Channels;
using Synack.Stack;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Explorer;

/// <summary>
/// What the explorer's live page follows: every connection of the stacks it is attached to, as it
/// happens (each segment in and out, each state change and timer), kept for the page and exported as
/// pcapng. Bounded whatever the traffic: the most recent <see cref="ConnectionsKept"/> connections, the
/// first <see cref="EventsPerConnection"/> events of each.
/// </summary>
public sealed class LiveFeed : IStackObserver
{
    /// <summary>Connections remembered; the oldest is forgotten first.</summary>
    public const int ConnectionsKept = 256;
    /// <summary>Events remembered per connection (a long transfer's first ones: the handshake is what the page is for).</summary>
    public const int EventsPerConnection = 2000;

    private readonly object _gate = new();
    private readonly Dictionary<FourTuple, LiveConnection> _connections = [];
    private readonly LinkedList<LiveConnection> _order = new();
    private readonly List<Channel<LiveEventView>> _listeners = [];
    private int _nextId;
    private long _nextEvent;

    /// <summary>Follows <paramref name="stack"/> from now on.</summary>
    public void Attach(NetworkStack stack)
    {
        ArgumentNullException.ThrowIfNull(stack);
        stack.AddObserver(this);
    }

    void IStackObserver.PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) => Segment(packet, inbound: true, now);

    void IStackObserver.PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now) => Segment(packet, inbound: false, now);

    void IStackObserver.StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now) =>
        Add(tuple, now, c => new LiveEventView(0, c.Id, now.TotalMilliseconds, "StateChanged", null, from.ToRfcName(), to.ToRfcName(), cause, to.ToRfcName()), packet: null);

    void IStackObserver.TimerFired(NetworkStack stack, FourTuple tuple, TcpTimer timer, TimeSpan now) =>
        Add(tuple, now, c => new LiveEventView(0, c.Id, now.TotalMilliseconds, "TimerFired", null, null, null, timer.ToString(), c.State), packet: null);

    private void Segment(ReadOnlySpan<byte> packet, bool inbound, TimeSpan now)
    {
        if (!TcpPacket.TryParse(packet, out var ip, out var tcp, out _, verifyChecksum: false)) return;
        // The connection is named from the stack's side: local address and port first.
        var tuple = inbound
            ? new FourTuple(ip.Destination, tcp.DestinationPort, ip.Source, tcp.SourcePort)
            : new FourTuple(ip.Source, tcp.SourcePort, ip.Destination, tcp.DestinationPort);
        int len = Math.Max(0, ip.PayloadLength - tcp.HeaderLength);
        var flags = tcp.Flags;
        uint seq = tcp.Seq.Value, ack = tcp.Ack.Value;
        ushort window = tcp.Window;
        byte[] copy = packet.ToArray();
        Add(tuple, now, c =>
        {
            if (flags.Has(TcpFlags.Syn)) { if (inbound) c.RemoteIsn ??= seq; else c.LocalIsn ??= seq; }
            uint? ownIsn = inbound ? c.RemoteIsn : c.LocalIsn, otherIsn = inbound ? c.LocalIsn : c.RemoteIsn;
            var seg = new LiveSegmentView(LabRun.Tcpdump(flags), flags.Has(TcpFlags.Ack), seq, ack,
                ownIsn is uint a ? unchecked((int)(seq - a)) : seq, otherIsn is uint b ? unchecked((int)(ack - b)) : ack, len, window);
            return new LiveEventView(0, c.Id, now.TotalMilliseconds, inbound ? "In" : "Out", seg, null, null, "", c.State);
        }, copy);
    }

    private void Add(FourTuple tuple, TimeSpan now, Func<LiveConnection, LiveEventView> make, byte[]? packet)
    {
        Channel<LiveEventView>[] listeners;
        LiveEventView e;
        lock (_gate)
        {
            if (!_connections.TryGetValue(tuple, out var c))
            {
                c = new LiveConnection(++_nextId, tuple, now);
                _connections[tuple] = c;
                _order.AddLast(c);
                while (_order.Count > ConnectionsKept)
                {
                    _connections.Remove(_order.First!.Value.Tuple);
                    _order.RemoveFirst();
                }
            }
            if (c.Events.Count >= EventsPerConnection) return;
            e = make(c) with { Index = ++_nextEvent };
            if (e.Kind == "StateChanged") c.State = e.To!;
            c.Events.Add(e);
            if (packet is not null) c.Packets.Add((packet, now, e.Kind == "In"));
            listeners = [.. _listeners];
        }
        foreach (var l in listeners) l.Writer.TryWrite(e);
    }

    internal LiveConnectionView[] Connections()
    {
        lock (_gate)
        {
            return [.. _order.Select(c => c.View())];
        }
    }

    internal LiveEventView[] Events(int connection)
    {
        lock (_gate)
        {
            return _order.FirstOrDefault(c => c.Id == connection)?.Events.ToArray() ?? [];
        }
    }

    /// <summary>The connection's packets as pcapng, state changes as comments on the packets that caused them; false if it is not remembered.</summary>
    internal bool WriteCapture(int connection, Stream output)
    {
        LiveConnection? c;
        (byte[] Packet, TimeSpan Time, bool Inbound)[] packets;
        lock (_gate)
        {
            c = _order.FirstOrDefault(x => x.Id == connection);
            if (c is null) return false;
            packets = [.. c.Packets];
        }
        using var w = new PcapNgWriter(output, "synack explore", ownsStream: false);
        int iface = w.AddInterface("synack", $"connection {c.Tuple}");
        foreach (var (p, t, inbound) in packets)
            w.WritePacket(iface, p, (long)(t.TotalMilliseconds * 1_000_000), inbound ? PacketDirection.Inbound : PacketDirection.Outbound);
        return true;
    }

    /// <summary>A reader of every event from now on, until <paramref name="cancel"/>; bounded: a reader that falls far behind loses the oldest.</summary>
    internal ChannelReader<LiveEventView> Subscribe(CancellationToken cancel)
    {
        var channel = Channel.CreateBounded<LiveEventView>(new BoundedChannelOptions(10_000) { FullMode = BoundedChannelFullMode.DropOldest });
        lock (_gate) _listeners.Add(channel);
        cancel.Register(() =>
        {
            lock (_gate) _listeners.Remove(channel);
            channel.Writer.TryComplete();
        });
        return channel.Reader;
    }

    private sealed class LiveConnection(int id, FourTuple tuple, TimeSpan first)
    {
        public int Id { get; } = id;
        public FourTuple Tuple { get; } = tuple;
        public TimeSpan First { get; } = first;
        public string State { get; set; } = "CLOSED";
        public uint? LocalIsn { get; set; }
        public uint? RemoteIsn { get; set; }
        public List<LiveEventView> Events { get; } = [];
        public List<(byte[] Packet, TimeSpan Time, bool Inbound)> Packets { get; } = [];
        public LiveConnectionView View() => new(Id, $"{Tuple.LocalAddress}:{Tuple.LocalPort}", $"{Tuple.RemoteAddress}:{Tuple.RemotePort}", First.TotalMilliseconds, State, Events.Count);
    }
}

/// <summary>A connection the live page lists.</summary>
internal sealed record LiveConnectionView(int Id, string Local, string Remote, double FirstMs, string State, int Events);

/// <summary>A segment as the live ladder shows it; relative numbers count from each side's ISN once its SYN was seen.</summary>
internal sealed record LiveSegmentView(string Flags, bool HasAck, uint Seq, uint Ack, long RelSeq, long RelAck, int Length, ushort Window);

/// <summary>One thing that happened to a connection: a segment in or out, a state change, a timer.</summary>
internal sealed record LiveEventView(long Index, int Connection, double TimeMs, string Kind, LiveSegmentView? Segment, string? From, string? To, string Text, string State);
