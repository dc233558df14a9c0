using System.IO.Pipelines;
using System.Net.Sockets;
using Synack.Tcp;
using Synack.Wire;

namespace Synack.Stack;

/// <summary>
/// A TCP connection of a <see cref="NetworkStack"/>, used the way System.Net.Sockets is: connect,
/// read and write asynchronously (or through <see cref="GetStream"/> / <see cref="Pipe"/>), shut down
/// the sending side, close or abort. Failures are <see cref="SocketException"/>s with the
/// <see cref="SocketError"/> .NET uses for the same case.
/// </summary>
public sealed class TcpConnection : IAsyncDisposable
{
    private readonly TcpSocket _socket;
    private IDuplexPipe? _pipe;

    internal TcpConnection(TcpSocket socket) => _socket = socket;

    private NetworkStack Stack => _socket.Stack;
    /// <summary>Local and remote address and port.</summary>
    public FourTuple Tuple => _socket.Tuple!.Value;
    /// <summary>The RFC 9293 state now.</summary>
    public TcpState State => _socket.Protocol!.State;

    /// <summary>
    /// Each state change from now on, told on the stack's loop after the input that caused it (the
    /// sender is the <see cref="TcpSocket"/>). A connection from <c>ConnectAsync</c> or <c>AcceptAsync</c>
    /// is ESTABLISHED already: to see the handshake too, subscribe on a <see cref="TcpSocket"/> before
    /// connecting. The last change told is the move into TIME-WAIT or CLOSED.
    /// </summary>
    public event EventHandler<TcpStateChange>? StateChanged
    {
        add => StackCalls.Invoke(_socket, SocketCall.Info, () => _socket.StateChanged += value);
        remove => StackCalls.Invoke(_socket, SocketCall.Info, () => _socket.StateChanged -= value);
    }
    /// <summary>The sans-I/O connection underneath (its TCB: SND.UNA, RCV.NXT, the congestion window...). Read it on the stack's loop.</summary>
    public Connection Protocol => _socket.Protocol!;
    /// <summary>The non-blocking socket underneath.</summary>
    public TcpSocket Socket => _socket;

    /// <summary>Active open to <paramref name="remote"/>, as a .NET developer names it. Completes when ESTABLISHED; fails with ConnectionRefused or TimedOut.</summary>
    public static Task<TcpConnection> ConnectAsync(NetworkStack stack, System.Net.IPEndPoint remote, ConnectionOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(stack, IpAddr.FromIPAddress(remote.Address), PortNumber.Checked(remote.Port, nameof(remote)), options, cancellationToken);

    /// <summary>Active open to <paramref name="address"/>:<paramref name="port"/> (1..65535). Completes when ESTABLISHED; fails with ConnectionRefused or TimedOut.</summary>
    public static Task<TcpConnection> ConnectAsync(NetworkStack stack, System.Net.IPAddress address, int port, ConnectionOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(stack, IpAddr.FromIPAddress(address), PortNumber.Checked(port, nameof(port)), options, cancellationToken);

    /// <summary>
    /// Active open to an address literal ("192.0.2.2", "2001:db8::2") and port, as <c>TcpClient.ConnectAsync(host, port)</c>
    /// is called; the stack has no resolver, so a host name is an <see cref="ArgumentException"/>.
    /// </summary>
    public static Task<TcpConnection> ConnectAsync(NetworkStack stack, string address, int port, ConnectionOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(stack, System.Net.IPAddress.TryParse(address, out var ip) ? ip
            : throw new ArgumentException($"'{address}' is not an IP address: the stack has no DNS resolver, give it an address literal", nameof(address)),
            port, options, cancellationToken);

    /// <summary>Active open. Completes when ESTABLISHED; fails with ConnectionRefused or TimedOut.</summary>
    public static async Task<TcpConnection> ConnectAsync(NetworkStack stack, IpAddr address, ushort port, ConnectionOptions? options = null, CancellationToken cancellationToken = default, ushort localPort = 0)
    {
        var socket = TcpSocket.Create(stack, options);
        Task? ready = null;
        StackCalls.Invoke(socket, SocketCall.Connect, () =>
        {
            var error = localPort == 0 ? SocketError.Success : socket.Bind(localPort);
            if (error == SocketError.Success) error = socket.Connect(address, port);
            if (error == SocketError.InProgress) ready = socket.WaitAsync(SocketReadiness.Writable | SocketReadiness.Error, cancellationToken);
            else if (error != SocketError.Success) throw new SocketException((int)error, $"cannot connect to {FourTuple.Format(address, port)}: {error}");
        });
        if (ready is not null)
        {
            try
            {
                await ready;
            }
            catch (OperationCanceledException)
            {
                StackCalls.Invoke(socket, SocketCall.Abort, socket.Abort);
                throw;
            }
        }
        StackCalls.Invoke(socket, SocketCall.Connect, () =>
        {
            var error = socket.TakeError();
            if (error != SocketError.Success) throw Exception(error);
        });
        return new TcpConnection(socket);
    }

    /// <summary>
    /// Reads into <paramref name="buffer"/>; 0 is end of stream (the peer closed its side). An empty
    /// buffer waits until a read would not block and returns 0 (data, end of stream or an error is
    /// there: the next read says which), so an idle connection need not hold a buffer while it waits.
    /// </summary>
    public ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (!buffer.IsEmpty) return ReadDataAsync(buffer, cancellationToken);
        // A zero-byte read is how an idle connection waits: it waits on the connection's call object
        // itself, with no async method's state held for it.
        var call = Interlocked.Exchange(ref _receiveCall, null);
        if (call is null)
        {
            if (_receiveCallMade) return ReadDataAsync(buffer, cancellationToken); // another read has it: the general path
            call = new ReceiveCall(this);
            _receiveCallMade = true;
        }
        call.Prepare(buffer, cancellationToken);
        StackCalls.Invoke(_socket, SocketCall.Receive, LoopCall.Run, call);
        if (call.Waiting)
        {
            call.GoesBackWhenConsumed = true;
            return call.ReadyAsZero;
        }
        var error = call.Error;
        call.Clear();
        _receiveCall = call;
        return error is SocketError.Success or SocketError.WouldBlock ? new ValueTask<int>(0) : ValueTask.FromException<int>(Exception(error));
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadDataAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        // One read at a time reuses the connection's call (a second, concurrent one makes its own).
        var call = Interlocked.Exchange(ref _receiveCall, null);
        if (call is null)
        {
            call = new ReceiveCall(this);
            _receiveCallMade = true;
        }
        try
        {
            while (true)
            {
                call.Prepare(buffer, cancellationToken);
                StackCalls.Invoke(_socket, SocketCall.Receive, LoopCall.Run, call);
                if (call.Error == SocketError.Success) return call.Taken;
                if (call.Error != SocketError.WouldBlock) throw Exception(call.Error);
                if (call.Waiting) await call.Ready; // else readable meanwhile: read again
            }
        }
        finally
        {
            call.Clear();
            _receiveCall = call;
        }
    }

    /// <summary>
    /// Reads what has arrived into <paramref name="destination"/>'s memory (a pipe's writer, say), as
    /// many of its blocks as it takes, up to <paramref name="maxBytes"/>, in one call to the stack: a pump
    /// then copies a burst of 64 KB into its pipe with one lock and one flush, not sixteen of each (a 4 KB
    /// block at a time, an upload took the stack's lock 128,000 times for 500 MiB). Advances the writer by
    /// what it read and returns that; waits as <see cref="ReadAsync(Memory{byte}, CancellationToken)"/>
    /// does when nothing is there; 0 is end of stream. Flushing is the caller's.
    /// </summary>
    public ValueTask<int> ReadAsync(System.Buffers.IBufferWriter<byte> destination, int maxBytes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBytes);
        return ReadIntoAsync(destination, maxBytes, cancellationToken);
    }

    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReadIntoAsync(System.Buffers.IBufferWriter<byte> writer, int most, CancellationToken cancellationToken)
    {
        var call = Interlocked.Exchange(ref _receiveIntoCall, null) ?? new ReceiveIntoCall(this);
        try
        {
            while (true)
            {
                call.Prepare(writer, most, cancellationToken);
                StackCalls.Invoke(_socket, SocketCall.Receive, LoopCall.Run, call);
                if (call.Error == SocketError.Success) return call.Taken;
                if (call.Error != SocketError.WouldBlock) throw Exception(call.Error);
                if (call.Waiting) await call.Ready;
            }
        }
        finally
        {
            call.Clear();
            _receiveIntoCall = call;
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting for send buffer space as needed.</summary>
    public ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default) =>
        WriteAsync(new System.Buffers.ReadOnlySequence<byte>(data), cancellationToken);

    /// <summary>
    /// Writes all of <paramref name="data"/> (a pipe's buffer, say), as many of its pieces as the send
    /// buffer takes in one call to the stack's loop rather than one call each, waiting for space as needed.
    /// </summary>
    [System.Runtime.CompilerServices.AsyncMethodBuilder(typeof(System.Runtime.CompilerServices.PoolingAsyncValueTaskMethodBuilder))]
    public async ValueTask WriteAsync(System.Buffers.ReadOnlySequence<byte> data, CancellationToken cancellationToken = default)
    {
        var call = Interlocked.Exchange(ref _sendCall, null) ?? new SendCall(this);
        try
        {
            while (!data.IsEmpty)
            {
                call.Prepare(data, cancellationToken);
                StackCalls.Invoke(_socket, SocketCall.Send, LoopCall.Run, call);
                if (call.Error is not (SocketError.Success or SocketError.WouldBlock)) throw Exception(call.Error);
                data = data.Slice(call.Taken);
                if (call.Waiting) await call.Ready;
            }
        }
        finally
        {
            call.Clear();
            _sendCall = call;
        }
    }

    private ReceiveCall? _receiveCall;
    private bool _receiveCallMade; // once made, a missing call means a read holds it
    private SendCall? _sendCall;
    private ReceiveIntoCall? _receiveIntoCall;

    /// <summary>
    /// Where this connection's reads and writes that had to wait resume, on a live loop (a
    /// <see cref="StackThread"/>): null, the thread pool, a work item each; a scheduler that runs its work
    /// in batches (a transport's queue, as Kestrel's socket transport has) runs them in its turn, right
    /// there — so give it only code that returns quickly, such as a pump between the connection and a pipe.
    /// A simulation's loop orders its wake-ups itself and ignores it.
    /// </summary>
    public PipeScheduler? ContinuationScheduler { get; set; }

    /// <summary>
    /// A call made on the stack's loop, its arguments and results in fields, and the wait it may need
    /// (it is that wait): made once per connection and kind, so a read that finds data, or waits for it,
    /// allocates nothing — and an idle connection waiting to read holds this one object.
    /// </summary>
    private abstract class LoopCall(TcpConnection owner) : ReusableSocketWait
    {
        public static readonly Action<LoopCall> Run = static c => c.Call();
        protected readonly TcpConnection Owner = owner;
        protected CancellationToken Token;
        public SocketError Error;
        /// <summary>The call blocked and its wait started: the caller awaits <see cref="ReusableSocketWait.Ready"/>.</summary>
        public bool Waiting;

        protected TcpSocket Socket => Owner._socket;

        protected override PipeScheduler? WakeScheduler => Owner.ContinuationScheduler;

        public void Start(CancellationToken token)
        {
            Token = token;
            Waiting = false;
        }

        protected abstract void Call();

        /// <summary>Blocked: wait for <paramref name="readiness"/>, unless the socket is ready for it already (then the caller tries again).</summary>
        protected void WaitFor(SocketReadiness readiness) => Waiting = Socket.WaitReusable(this, readiness, Token);

        public virtual void Clear()
        {
            Token = default;
            Waiting = false;
        }
    }

    private sealed class ReceiveCall(TcpConnection owner) : LoopCall(owner)
    {
        private Memory<byte> _buffer;
        public int Taken;
        /// <summary>A zero-byte read handed this call out as its result: back to the connection once consumed.</summary>
        public bool GoesBackWhenConsumed;

        public void Prepare(Memory<byte> buffer, CancellationToken token)
        {
            _buffer = buffer;
            Start(token);
        }

        protected override void Call()
        {
            if (_buffer.IsEmpty)
            {
                // A zero-byte read waits until a read would not block, as on a .NET Socket: a server
                // holding many idle connections then holds no buffer for each while it waits.
                Taken = 0;
                WaitFor(SocketReadiness.Readable);
                Error = Waiting ? SocketError.WouldBlock : SocketError.Success;
                return;
            }
            Taken = Socket.Receive(_buffer.Span, out Error);
            if (Error == SocketError.WouldBlock) WaitFor(SocketReadiness.Readable);
        }

        protected override void Consumed()
        {
            if (!GoesBackWhenConsumed) return;
            GoesBackWhenConsumed = false;
            Clear();
            Owner._receiveCall = this;
        }

        public override void Clear()
        {
            base.Clear();
            _buffer = default;
        }
    }

    /// <summary>A receive into a buffer writer's blocks, as many as the data fills.</summary>
    private sealed class ReceiveIntoCall(TcpConnection owner) : LoopCall(owner)
    {
        private System.Buffers.IBufferWriter<byte>? _writer;
        private int _most;
        public int Taken;

        public void Prepare(System.Buffers.IBufferWriter<byte> writer, int most, CancellationToken token)
        {
            _writer = writer;
            _most = most;
            Start(token);
        }

        protected override void Call()
        {
            Taken = 0;
            while (true)
            {
                var memory = _writer!.GetMemory(); // the rest of the writer's block, or a fresh one
                int n = Socket.Receive(memory.Span[..Math.Min(memory.Length, _most - Taken)], out Error);
                if (n > 0)
                {
                    _writer.Advance(n);
                    Taken += n;
                }
                if (Taken == 0)
                {
                    if (Error == SocketError.WouldBlock) WaitFor(SocketReadiness.Readable);
                    return; // nothing yet, end of stream (0), or the connection's error
                }
                // Only while data is queued: a receive that finds none would take a pending error (a
                // reset after the data) that belongs to the next call.
                if (Taken >= _most || Socket.Protocol!.ReceiveQueued == 0) return;
            }
        }

        public override void Clear()
        {
            base.Clear();
            _writer = null;
        }
    }

    /// <summary>A send of a sequence's pieces, as many as the send buffer takes.</summary>
    private sealed class SendCall(TcpConnection owner) : LoopCall(owner)
    {
        private System.Buffers.ReadOnlySequence<byte> _data;
        public long Taken;

        public void Prepare(System.Buffers.ReadOnlySequence<byte> data, CancellationToken token)
        {
            _data = data;
            Start(token);
        }

        // Every piece but the last goes with MSG_MORE: a pipe's buffer is a chain of 4 KiB blocks, and
        // sent one by one each block's tail went out as a short segment of its own (a TUN download went
        // out in 4 KiB packets). Corked, the blocks leave as full segments that the device takes as one
        // burst; before waiting for room the rest is pushed, as tcp_sendmsg pushes before it sleeps.
        protected override void Call()
        {
            Taken = 0;
            Error = SocketError.Success;
            var pieces = _data.GetEnumerator();
            bool more = pieces.MoveNext();
            while (more)
            {
                var piece = pieces.Current;
                more = pieces.MoveNext();
                int n = Socket.Send(piece.Span, out Error, more);
                Taken += n;
                if (Error is not (SocketError.Success or SocketError.WouldBlock)) return;
                if (n < piece.Length)
                {
                    if (more) Socket.Send(default, out _);
                    Error = SocketError.WouldBlock;
                    WaitFor(SocketReadiness.Writable);
                    return;
                }
            }
        }

        public override void Clear()
        {
            base.Clear();
            _data = default;
        }
    }

    /// <summary>
    /// Sends <paramref name="count"/> bytes of <paramref name="file"/> from <paramref name="offset"/> as
    /// sendfile() does: the stack reads them straight into its send buffer as acknowledgments free it,
    /// with no copy through the application and no wake-up of it per chunk. Completes when the last
    /// byte is queued (the handle stays the caller's); cancelling stops the reading, and what is
    /// queued still goes.
    /// </summary>
    public async Task SendFileAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, long offset, long count, CancellationToken cancellationToken = default)
    {
        Task? sending = null;
        StackCalls.Invoke(_socket, SocketCall.Send, () => sending = _socket.SendFile(file, offset, count));
        if (sending!.IsCompleted || !cancellationToken.CanBeCanceled)
        {
            await sending;
            return;
        }
        using (cancellationToken.Register(() => StackCalls.Post(_socket, SocketCall.Send, () => _socket.CancelFileSend(sending))))
        {
            try
            {
                await sending;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(cancellationToken);
            }
        }
    }

    /// <summary>Sends the whole file at <paramref name="path"/> (see the handle's overload); the file is opened for reading and closed when done.</summary>
    public async Task SendFileAsync(string path, CancellationToken cancellationToken = default)
    {
        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        await SendFileAsync(file, 0, RandomAccess.GetLength(file), cancellationToken);
    }

    /// <summary>Half-close: a FIN after the queued data. Reading goes on until the peer closes.</summary>
    public void ShutdownSend()
    {
        var error = SocketError.Success;
        StackCalls.Invoke(_socket, SocketCall.Shutdown, () => error = _socket.Shutdown());
        if (error != SocketError.Success) throw Exception(error);
    }

    /// <summary>
    /// Full close, as a socket's close(): completes when our FIN is acknowledged (or the connection is
    /// gone). Unread data makes it a reset, as on Linux. With <paramref name="linger"/> (SO_LINGER) the
    /// close waits at most that long and then resets; a zero linger resets at once.
    /// </summary>
    public async Task CloseAsync(TimeSpan? linger = null, CancellationToken cancellationToken = default)
    {
        if (linger is TimeSpan zero && zero <= TimeSpan.Zero)
        {
            Abort();
            return;
        }
        if (linger is TimeSpan limit)
        {
            // The stack's clock, not the wall's: in a simulation linger runs in virtual time.
            using var timer = new CancellationTokenSource(limit, Stack.Loop?.Time ?? TimeProvider.System);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timer.Token);
            try
            {
                await CloseAsync(null, timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Abort(); // the linger time ran out with data or the FIN unacknowledged
            }
            return;
        }
        Task? done = null;
        StackCalls.Invoke(_socket, SocketCall.Close, () =>
        {
            _socket.Close();
            done = _socket.WaitAsync(SocketReadiness.Closed, cancellationToken);
        });
        await done!;
    }

    /// <summary>
    /// Starts a full close, as <see cref="CloseAsync"/> without waiting for it: queued to the stack's
    /// loop, so it never blocks, and pending reads and writes end with OperationAborted.
    /// </summary>
    public void Close() => StackCalls.Post(_socket, SocketCall.Close, _socket.Close);

    /// <summary>Sends RST and forgets the connection.</summary>
    public void Abort() => StackCalls.Invoke(_socket, SocketCall.Abort, _socket.Abort);

    /// <summary>The connection's tcp_info now (state, windows in segments, round trip, counters), in any state.</summary>
    public TcpInfo GetInfo()
    {
        TcpInfo info = default;
        StackCalls.Invoke(_socket, SocketCall.Info, () => info = _socket.Protocol!.GetInfo(_socket.Stack.Now));
        return info;
    }

    /// <summary>
    /// Where code that feeds this connection should run, such as the reader of a pipe whose data it
    /// sends: the thread pool, except in a simulation that settles the thread pool, where it is the
    /// loop at its next settle point — so what the application wrote in one instant is there, whole,
    /// when it is read, and a seed repeats the run segment for segment.
    /// </summary>
    public PipeScheduler Scheduler => StackCalls.Scheduler(_socket);

    /// <summary>Aborts (RST) a connection that has not closed yet: close it with <c>CloseAsync</c> first for a FIN.</summary>
    public ValueTask DisposeAsync()
    {
        if (State is not (TcpState.Closed or TcpState.TimeWait)) Abort();
        return ValueTask.CompletedTask;
    }

    /// <summary>A Stream over this connection (disposing it closes the connection).</summary>
    public Stream GetStream() => new ConnectionStream(this);

    /// <summary>An IDuplexPipe over the same connection as <see cref="GetStream"/>.</summary>
    public IDuplexPipe Pipe => _pipe ??= new DuplexPipe(
        PipeReader.Create(GetStream(), new StreamPipeReaderOptions(leaveOpen: true)),
        PipeWriter.Create(GetStream(), new StreamPipeWriterOptions(leaveOpen: true)));

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }

    private static SocketException Exception(SocketError error) => new((int)error, Describe(error));

    private static string Describe(SocketError error) => error switch
    {
        SocketError.ConnectionRefused => TcpError.ConnectionRefused.Describe(),
        SocketError.ConnectionReset => TcpError.ConnectionReset.Describe(),
        SocketError.TimedOut => TcpError.TimedOut.Describe(),
        SocketError.OperationAborted => TcpError.Aborted.Describe(),
        SocketError.Shutdown => TcpError.ConnectionClosing.Describe(),
        SocketError.NotConnected => TcpError.ConnectionDoesNotExist.Describe(),
        SocketError.HostUnreachable => TcpError.HostUnreachable.Describe(),
        _ => error.ToString(),
    };

    private sealed class ConnectionStream(TcpConnection conn) : Stream
    {
        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override Task FlushAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("use ReadAsync: the stack's loop cannot block");
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("use WriteAsync: the stack's loop cannot block");
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        // As NetworkStream does, a stream reports a failed connection as an IOException around the SocketException.
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                return await conn.ReadAsync(buffer, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new IOException($"Unable to read data from the transport connection: {e.Message}", e);
            }
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            try
            {
                await conn.WriteAsync(buffer, cancellationToken);
            }
            catch (SocketException e)
            {
                throw new IOException($"Unable to write data to the transport connection: {e.Message}", e);
            }
        }

        public override async ValueTask DisposeAsync()
        {
            if (conn.State is not (TcpState.Closed or TcpState.TimeWait)) await conn.CloseAsync(null);
            GC.SuppressFinalize(this);
        }

        /// <summary>A synchronous dispose starts the close and does not wait for the FIN's acknowledgment.</summary>
        protected override void Dispose(bool disposing)
        {
            if (disposing && conn.State is not (TcpState.Closed or TcpState.TimeWait)) _ = conn.CloseAsync(null);
            base.Dispose(disposing);
        }
    }
}
