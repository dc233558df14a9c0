using System.Buffers;

namespace Synack.AspNetCore.Tests;

/// <summary>The shared pool, counting the blocks rented and not yet given back.</summary>
internal sealed class CountingMemoryPool : MemoryPool<byte>
{
    private int _outstanding;

    public int Outstanding => Volatile.Read(ref _outstanding);

    public override int MaxBufferSize => Shared.MaxBufferSize;

    public override IMemoryOwner<byte> Rent(int minBufferSize = -1)
    {
        Interlocked.Increment(ref _outstanding);
        return new Block(this, Shared.Rent(minBufferSize));
    }

    protected override void Dispose(bool disposing) { }

    private sealed class Block(CountingMemoryPool pool, IMemoryOwner<byte> inner) : IMemoryOwner<byte>
    {
        private IMemoryOwner<byte>? _inner = inner;

        public Memory<byte> Memory => _inner?.Memory ?? throw new ObjectDisposedException(nameof(Block));

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _inner, null) is not { } owner) return;
            owner.Dispose();
            Interlocked.Decrement(ref pool._outstanding);
        }
    }
}
