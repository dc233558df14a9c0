using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// A live pcapng capture of one or more stacks, as tcpdump on each host would see it: one interface per
/// stack, packets marked inbound or outbound, nanosecond timestamps. Every state change becomes a
/// packet comment on the packet that caused it (the inbound one), or on the first packet its input
/// sent (a user call, a timer). Packets are held until their input is done, so a reply is never
/// written before the packet that caused it.
/// </summary>
public sealed class CaptureTap : IStackObserver, IDisposable
{
    private readonly PcapNgWriter _writer;
    private readonly Dictionary<NetworkStack, Tapped> _stacks = new();
    private readonly Lock _gate = new(); // the stack's thread writes; the owner may dispose from another
    private bool _disposed;

    /// <summary>A capture written to <paramref name="output"/> as pcapng.</summary>
    public CaptureTap(Stream output) => _writer = new PcapNgWriter(output, "synack");

    /// <summary>Packets written so far.</summary>
    public long PacketsWritten { get; private set; }

    /// <summary>Captures this stack's packets (and its state changes as comments).</summary>
    public void Attach(NetworkStack stack)
    {
        _stacks[stack] = new Tapped(_writer.AddInterface(stack.Name, string.Join(",", stack.Options.Addresses)));
        stack.AddObserver(this);
    }

    /// <summary>Records an inbound packet.</summary>
    public void PacketIn(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (_stacks.TryGetValue(stack, out var t)) t.Inbound = (packet.ToArray(), now);
    }

    /// <summary>Records an outbound packet.</summary>
    public void PacketOut(NetworkStack stack, ReadOnlySpan<byte> packet, TimeSpan now)
    {
        if (_stacks.TryGetValue(stack, out var t)) t.Outbound.Add((packet.ToArray(), now));
    }

    /// <summary>Records a dropped inbound packet, with the reason as its comment.</summary>
    public void PacketDropped(NetworkStack stack, ReadOnlySpan<byte> packet, DropReason reason, TimeSpan now)
    {
        if (!_stacks.TryGetValue(stack, out var t)) return;
        t.Inbound ??= (packet.ToArray(), now);
        t.Comments.Add($"{stack.Name}: dropped ({reason})");
    }

    /// <summary>Remembers a state change, to comment the packet that caused it.</summary>
    public void StateChanged(NetworkStack stack, FourTuple tuple, TcpState from, TcpState to, string cause, TimeSpan now)
    {
        if (_stacks.TryGetValue(stack, out var t)) t.Comments.Add($"{stack.Name} {FourTuple.Format(tuple.LocalAddress, tuple.LocalPort)}: {from.ToRfcName()} -> {to.ToRfcName()} ({cause})");
    }

    /// <summary>Writes what the finished input held back.</summary>
    public void InputDone(NetworkStack stack, TimeSpan now)
    {
        if (!_stacks.TryGetValue(stack, out var t)) return;
        if (t.Inbound is var (inPacket, inTime))
        {
            Write(t, inPacket, inTime, PacketDirection.Inbound);
            t.Inbound = null;
        }
        foreach (var (packet, time) in t.Outbound) Write(t, packet, time, PacketDirection.Outbound);
        t.Outbound.Clear();
        lock (_gate)
        {
            if (!_disposed) _writer.Flush();
        }
    }

    private void Write(Tapped t, byte[] packet, TimeSpan time, PacketDirection direction)
    {
        string? comment = t.Comments.Count > 0 ? string.Join("; ", t.Comments) : null;
        t.Comments.Clear();
        lock (_gate)
        {
            if (_disposed) return; // packets after the capture was closed are not captured
            _writer.WritePacket(t.Interface, packet, time.Ticks * 100, direction, comment);
            PacketsWritten++;
        }
    }

    /// <summary>Flushes and closes the capture.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _writer.Dispose();
        }
    }

    private sealed class Tapped(int iface)
    {
        public int Interface { get; } = iface;
        public (byte[] Packet, TimeSpan Time)? Inbound { get; set; }
        public List<(byte[] Packet, TimeSpan Time)> Outbound { get; } = [];
        public List<string> Comments { get; } = [];
    }
}
