using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;
using Synack.Stack;

namespace Synack.AspNetCore;

/// <summary>
/// One accepted Synack connection as Kestrel sees it: a duplex pipe pumped to and from the
/// <see cref="TcpConnection"/> (as Kestrel's socket transport pumps a socket), end points, and the
/// lifetime: <see cref="ConnectionClosed"/> fires when the peer is gone, <see cref="Abort(ConnectionAbortedException)"/> closes.
/// </summary>
internal sealed class SynackConnectionContext : ConnectionContext,
    IConnectionIdFeature, IConnectionTransportFeature, IConnectionItemsFeature, IConnectionLifetimeFeature, IConnectionEndPointFeature
{
    private const int MaxReadPerFlush = 64 * 1024;
    private static long _nextId;
    private readonly TcpConnection _connection;
    private readonly Pipe _input;
    private readonly Pipe _output;
    private readonly CancellationTokenSource _closed = new();
    private readonly CancellationTokenSource _stopReading = new();
    private Task _receiving = Task.CompletedTask;
    private Task _sending = Task.CompletedTask;
    private volatile bool _aborted;

    public SynackConnectionContext(TcpConnection connection, SynackTransportOptions options, SendQueue sendQueue)
    {
        _connection = connection;
        var tuple = connection.Tuple;
        LocalEndPoint = new IPEndPoint(tuple.LocalAddress.ToIPAddress(), tuple.LocalPort);
        RemoteEndPoint = new IPEndPoint(tuple.RemoteAddress.ToIPAddress(), tuple.RemotePort);
        ConnectionId = $"synack-{Interlocked.Increment(ref _nextId):x}";
        var pool = options.MemoryPool;
        _input = new Pipe(new PipeOptions(pool, pauseWriterThreshold: options.MaxReadBufferSize, resumeWriterThreshold: options.MaxReadBufferSize / 2, useSynchronizationContext: false));
        // The send pump runs where the connection says: in a simulation, once the app has written all it
        // will for now; live, in the transport's send queue, as Kestrel's socket transport schedules its
        // sends (its IOQueue): the flushes an HTTP/2 connection's streams make meanwhile go in one write. Run inline
        // on each flush, h2load's 100-byte responses cost a segment and a device write each (800,000
        // writes for 800,000 responses; 55,000 scheduled, and 1.4x the requests per second).
        var sendScheduler = connection.Scheduler;
        if (ReferenceEquals(sendScheduler, PipeScheduler.ThreadPool)) // a live loop
        {
            sendScheduler = _bulkInline = new BulkInline(sendQueue);
            connection.ContinuationScheduler = sendQueue; // the pumps' waits for data and for room resume there too
        }
        _bulkThreshold = Math.Max(options.MaxWriteBufferSize / 2, 1);
        _output = new Pipe(new PipeOptions(pool, readerScheduler: sendScheduler, pauseWriterThreshold: options.MaxWriteBufferSize, resumeWriterThreshold: options.MaxWriteBufferSize / 2, useSynchronizationContext: false));
        Transport = new DuplexPipe(_input.Reader, _output.Writer);
        Features = new FeatureCollection();
        Features.Set<IConnectionIdFeature>(this);
        Features.Set<IConnectionTransportFeature>(this);
        Features.Set<IConnectionItemsFeature>(this);
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionEndPointFeature>(this);
        // The connection itself, as Kestrel's socket transport offers its Socket (IConnectionSocketFeature):
        // an app may read its tcp_info or state through HttpContext.Features.
        Features.Set(connection);
    }

    public override string ConnectionId { get; set; }
    public override IFeatureCollection Features { get; }
    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();
    public override IDuplexPipe Transport { get; set; }
    public override EndPoint? LocalEndPoint { get; set; }
    public override EndPoint? RemoteEndPoint { get; set; }
    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set => throw new NotSupportedException("the transport owns the connection's lifetime");
    }

    public void Start()
    {
        _receiving = Task.Run(ReceiveAsync);
        _sending = Task.Run(SendAsync);
    }

    /// <summary>From the connection into Kestrel's input, until end of stream, a reset, or disposal.</summary>
    private async Task ReceiveAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                // Wait for data before taking a buffer, as Kestrel's socket transport does
                // (WaitForDataBeforeAllocatingBuffer): an idle connection holds no pipe block (4 KiB of
                // the 12.7 KB an idle Kestrel connection cost in the hold bench).
                await _connection.ReadAsync(Memory<byte>.Empty, _stopReading.Token);
                // Then everything there, up to 64 KB, into as many blocks as it fills, for one flush.
                int n = await _connection.ReadAsync(_input.Writer, MaxReadPerFlush, _stopReading.Token);
                if (n == 0) break; // the peer's FIN
                var flush = await _input.Writer.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled) break;
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            error = new ConnectionResetException(e.Message, e);
        }
        catch (SocketException e)
        {
            error = _aborted ? new ConnectionAbortedException("the connection was aborted", e) : new ConnectionResetException(e.Message, e);
        }
        finally
        {
            await _input.Writer.CompleteAsync(error);
            FireClosed();
        }
    }

    private readonly BulkInline? _bulkInline;
    private readonly long _bulkThreshold;

    /// <summary>The send queue, or inline while the connection's last read from the pipe was a bulk one.</summary>
    private sealed class BulkInline(PipeScheduler queue) : PipeScheduler
    {
        public volatile bool Bulk;

        public override void Schedule(Action<object?> action, object? state)
        {
            if (Bulk) action(state);
            else queue.Schedule(action, state);
        }
    }

    /// <summary>From Kestrel's output onto the connection; when Kestrel is done writing, our FIN.</summary>
    private async Task SendAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await _output.Reader.ReadAsync();
                if (result.IsCanceled) break;
                // A bulk response fills the pipe to its limit and waits for it to drain: its next flush
                // runs the pump right there, on the writer's thread, instead of a hop to the queue and
                // another back for the writer (a 64 KiB round of two thread switches, a download's pace).
                if (_bulkInline is { } bulk) bulk.Bulk = result.Buffer.Length >= _bulkThreshold;
                await _connection.WriteAsync(result.Buffer); // the whole buffer in as few calls to the stack as its space allows
                _output.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted) break;
            }
            if (!_aborted) _connection.ShutdownSend();
        }
        catch (SocketException e)
        {
            error = e.SocketErrorCode == SocketError.ConnectionReset ? new ConnectionResetException(e.Message, e) : new ConnectionAbortedException(e.Message, e);
        }
        finally
        {
            await _output.Reader.CompleteAsync(error);
        }
    }

    private void FireClosed()
    {
        // Callbacks registered on ConnectionClosed must not run on the stack's thread.
        ThreadPool.UnsafeQueueUserWorkItem(static c => c.Cancel(), _closed, preferLocal: false);
    }

    /// <summary>
    /// Kestrel aborts a connection for many reasons, among them that the client closed it. As its socket
    /// transport does (shutdown and close), this closes: a FIN, or a reset when data is left unread.
    /// </summary>
    public override void Abort(ConnectionAbortedException abortReason)
    {
        if (_aborted) return;
        _aborted = true;
        _connection.Close(); // never blocks: Kestrel may abort from its shutdown path
        _stopReading.Cancel();
        _output.Reader.CancelPendingRead();
        _input.Writer.CancelPendingFlush();
    }

    public override async ValueTask DisposeAsync()
    {
        await _output.Writer.CompleteAsync();
        await _input.Reader.CompleteAsync();
        await _sending;
        _stopReading.Cancel();
        await _receiving;
        // The application has let go: close() (a FIN if not sent yet; with unread data, a reset).
        if (!_aborted) _connection.Close();
        // The token sources have no timers; they are left to the collector, since ConnectionClosed may
        // still fire (from the receive loop's end) after Kestrel has disposed the context.
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
