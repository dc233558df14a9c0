namespace Synack.Stack;

/// <summary>Joins stacks that run on <see cref="StackThread"/>s in one process: each packet is posted to the receiver's loop.</summary>
public sealed class ThreadLink : IPacketSink
{
    private readonly List<StackThread> _threads = [];

    public void Attach(StackThread thread)
    {
        _threads.Add(thread);
        thread.Stack.Output = this;
    }

    public void Transmit(INetworkNode from, ReadOnlySpan<byte> packet)
    {
        if (!Synack.Wire.IpHeader.TryParse(packet, out var ip, out _)) return;
        foreach (var t in _threads)
        {
            if (!t.Stack.Options.Addresses.Contains(ip.Destination)) continue;
            // A pooled copy: the sender's buffer is reused as soon as this returns.
            var copy = System.Buffers.ArrayPool<byte>.Shared.Rent(packet.Length);
            packet.CopyTo(copy);
            int length = packet.Length;
            t.Post(() =>
            {
                try
                {
                    t.Stack.Receive(copy.AsSpan(0, length), t.Now);
                }
                finally
                {
                    System.Buffers.ArrayPool<byte>.Shared.Return(copy);
                }
            });
            return;
        }
    }
}
