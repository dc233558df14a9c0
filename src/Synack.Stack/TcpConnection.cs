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
public sealed class TcpConnection : IConnectionObserver, IAsyncDisposable
{
    private readonly NetworkStack _stack;
    private readonly StackConnection _sc;
    private TaskCompletionSource? _connected;
    private TaskCompletionSource? _readable;
    private TaskCompletionSource? _writable;
    private TaskCompletionSource? _closed;
    private IDuplexPipe? _pipe;

    private TcpConnection(NetworkStack stack, StackConnection sc)
    {
        _stack = stack;
        _sc = sc;
        sc.Observer = this;
    }

    public FourTuple Tuple => _sc.Connection.Tuple;
    public TcpState State => _sc.Connection.State;
    public Connection Protocol => _sc.Connection;

    /// <summary>Active open. Completes when ESTABLISHED; fails with ConnectionRefused or TimedOut.</summary>
    public static async Task<TcpConnection> ConnectAsync(NetworkStack stack, IpAddr address, ushort port, ConnectionOptions? options = null, CancellationToken cancellationToken = default, ushort localPort = 0)
    {
        TcpConnection? conn = null;
        var connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Invoke(stack, () =>
        {
            StackConnection sc;
            try
            {
                sc = stack.Connect(address, port, null, localPort, options, null);
            }
            catch (InvalidOperationException ex)
            {
                throw new SocketException((int)SocketError.AddressAlreadyInUse, ex.Message);
            }
            conn = new TcpConnection(stack, sc) { _connected = connected };
            if (sc.Connection.State == TcpState.Established) connected.TrySetResult();
        });
        using (cancellationToken.Register(() => Invoke(stack, () =>
        {
            if (connected.TrySetCanceled(cancellationToken)) stack.Abort(conn!._sc);
        })))
        {
            await connected.Task;
        }
        return conn!;
    }

    internal static TcpConnection Accepted(NetworkStack stack, StackConnection sc) => new(stack, sc);

    /// <summary>Reads into <paramref name="buffer"/>; 0 is end of stream (the peer closed its side).</summary>
    public async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            int n = 0;
            TcpError error = TcpError.None;
            Invoke(_stack, () =>
            {
                n = _stack.Call(_sc, c => c.Receive(buffer.Span, _stack.Now, out error));
                if (n == 0 && error == TcpError.WouldBlock) _readable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            });
            if (n > 0 || error == TcpError.None) return n;
            if (error != TcpError.WouldBlock) throw ToException(error);
            await Wait(_readable!, cancellationToken);
        }
    }

    /// <summary>Writes all of <paramref name="data"/>, waiting for send buffer space as needed.</summary>
    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        while (!data.IsEmpty)
        {
            int n = 0;
            TcpError error = TcpError.None;
            Invoke(_stack, () =>
            {
                n = _stack.Call(_sc, c => c.Send(data.Span, _stack.Now, out error));
                if (n < data.Length && error is TcpError.None or TcpError.WouldBlock) _writable = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            });
            if (error is not (TcpError.None or TcpError.WouldBlock)) throw ToException(error);
            data = data[n..];
            if (!data.IsEmpty) await Wait(_writable!, cancellationToken);
        }
    }

    /// <summary>Half-close: a FIN after the queued data. Reading goes on until the peer closes.</summary>
    public void ShutdownSend()
    {
        TcpError error = TcpError.None;
        Invoke(_stack, () => error = _stack.Call(_sc, c => c.Shutdown(_stack.Now)));
        if (error is not (TcpError.None or TcpError.ConnectionClosing)) throw ToException(error);
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
            using var timer = new CancellationTokenSource(limit, _stack.Loop?.Time ?? TimeProvider.System);
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
        var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Invoke(_stack, () =>
        {
            _closed = closed;
            _stack.Call(_sc, c => c.Close(_stack.Now));
            CheckClosed();
        });
        await Wait(closed, cancellationToken);
    }

    /// <summary>Sends RST and forgets the connection.</summary>
    public void Abort() => Invoke(_stack, () => _stack.Abort(_sc));

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

    void IConnectionObserver.OnEvent(ConnectionEvent e, TcpError error)
    {
        switch (e)
        {
            case ConnectionEvent.Connected:
                _connected?.TrySetResult();
                break;
            case ConnectionEvent.DataReadable:
            case ConnectionEvent.PeerClosed:
                _readable?.TrySetResult();
                break;
            case ConnectionEvent.SendSpaceAvailable:
                _writable?.TrySetResult();
                break;
            case ConnectionEvent.Failed:
                var ex = ToException(error);
                _connected?.TrySetException(ex);
                _readable?.TrySetResult();
                _writable?.TrySetResult();
                _closed?.TrySetResult();
                break;
            case ConnectionEvent.Closed:
                _readable?.TrySetResult();
                _writable?.TrySetResult();
                _closed?.TrySetResult();
                break;
        }
        CheckClosed();
    }

    void IConnectionObserver.OnStateChanged(TcpState from, TcpState to) => CheckClosed();

    private void CheckClosed()
    {
        if (_closed is null) return;
        var c = _sc.Connection;
        bool finAcked = c.SendClosed && c.SndUna == c.SndMax && c.State is not (TcpState.FinWait1 or TcpState.Closing or TcpState.LastAck);
        if (finAcked || c.State == TcpState.Closed) _closed.TrySetResult();
    }

    private static async Task Wait(TaskCompletionSource tcs, CancellationToken cancellationToken)
    {
        if (!cancellationToken.CanBeCanceled)
        {
            await tcs.Task;
            return;
        }
        using (cancellationToken.Register(() => tcs.TrySetCanceled(cancellationToken)))
        {
            await tcs.Task;
        }
    }

    private static void Invoke(NetworkStack stack, Action action)
    {
        if (stack.Loop is { } loop) loop.Invoke(action);
        else action();
    }

    internal static SocketException ToException(TcpError error) => new((int)ToSocketError(error), error.Describe());

    public static SocketError ToSocketError(TcpError error) => error switch
    {
        TcpError.None => SocketError.Success,
        TcpError.ConnectionRefused => SocketError.ConnectionRefused,
        TcpError.ConnectionReset => SocketError.ConnectionReset,
        TcpError.TimedOut => SocketError.TimedOut,
        TcpError.Aborted => SocketError.OperationAborted,
        TcpError.ConnectionClosing => SocketError.Shutdown,
        TcpError.ConnectionDoesNotExist => SocketError.NotConnected,
        TcpError.ConnectionAlreadyExists => SocketError.IsConnected,
        TcpError.WouldBlock => SocketError.WouldBlock,
        TcpError.HostUnreachable => SocketError.HostUnreachable,
        _ => SocketError.InvalidArgument,
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
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => conn.ReadAsync(buffer, cancellationToken);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => conn.ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => conn.WriteAsync(buffer, cancellationToken);
        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => conn.WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask DisposeAsync()
        {
            if (conn.State is not (TcpState.Closed or TcpState.TimeWait)) await conn.CloseAsync(null);
        }
    }
}
