using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.Bench.Connections;

/// <summary>What a connection does with the frames it receives; called on its receive loop.</summary>
public interface IServerFrameHandler
{
    /// <summary>A pushed <c>message</c>, a <c>message.accepted</c> or a <c>receipt</c>: the per-delivery hot path.</summary>
    void OnScanned(EdgeConnection connection, in ScannedServerFrame frame);

    /// <summary>Any other frame that no pending request was waiting for.</summary>
    void OnOther(EdgeConnection connection, ServerFrame frame);
}

/// <summary>
/// One device's WebSocket to an Edge node, speaking protocol v1 with Contracts frames. Sends go
/// through an unbounded queue drained by one writer (a WebSocket allows one send at a time), so the
/// open-loop scheduler never waits on a slow socket: a stall becomes latency, not a lower rate.
/// Requests with an <c>id</c> can be awaited; everything else goes to the <see cref="IServerFrameHandler"/>.
/// With a <see cref="SocketPoller"/> (ws:// on Linux x64) the socket is a <see cref="PolledWebSocket"/>
/// instead: frames are read on the poller's thread and a frame is sent by the thread that queues it,
/// which the groups-of-1,024 runs need (the poller's comment says why). There a socket whose kernel
/// buffer is full holds the sending thread, for at most <see cref="PolledSocketTimeout"/>, after
/// which the connection fails.
/// </summary>
public sealed class EdgeConnection : IAsyncDisposable, IPolledWebSocketOwner
{
    private const int InitialReceiveBufferBytes = 4096;

    /// <summary>A polled socket's blocking connect, upgrade or send that takes longer fails the connection (the Edge answers in milliseconds).</summary>
    private static readonly TimeSpan PolledSocketTimeout = TimeSpan.FromSeconds(30);

    [ThreadStatic]
    private static FrameWriter? _threadFrameWriter;

    private readonly ClientWebSocket? _socket;
    private PolledWebSocket? _polled;
    private readonly Channel<ClientFrame> _outgoing = Channel.CreateUnbounded<ClientFrame>(new UnboundedChannelOptions { SingleReader = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ServerFrame>> _pending = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stop = new();
    private readonly int _maxFrameBytes;
    private IServerFrameHandler _handler;
    private Task _receiveLoop = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private long _framesSent;
    private long _framesReceived;

    private EdgeConnection(ClientWebSocket? socket, EdgeEndpoint edge, string userId, string deviceId, IServerFrameHandler handler, int maxFrameBytes)
    {
        _socket = socket;
        Edge = edge;
        UserId = userId;
        DeviceId = deviceId;
        _handler = handler;
        _maxFrameBytes = maxFrameBytes;
    }

    public EdgeEndpoint Edge { get; }

    public string UserId { get; }

    public string DeviceId { get; }

    /// <summary>Free for the scenario: the device's index in its plan.</summary>
    public int Tag { get; init; }

    public long FramesSent => Interlocked.Read(ref _framesSent);

    public long FramesReceived => Interlocked.Read(ref _framesReceived);

    /// <summary>Completes when the server closed the socket or it failed; holds the failure if any.</summary>
    public Task Completion => _receiveLoop;

    public bool IsOpen => _polled?.IsOpen ?? _socket!.State == WebSocketState.Open;

    public static async Task<EdgeConnection> ConnectAsync(
        EdgeEndpoint edge,
        string token,
        string userId,
        string deviceId,
        IServerFrameHandler handler,
        HttpMessageInvoker? invoker,
        int maxFrameBytes,
        CancellationToken cancellationToken,
        int tag = 0,
        SocketPoller? poller = null)
    {
        if (poller is not null && edge.WebSocketUri.Scheme == "ws")
        {
            var polled = new EdgeConnection(null, edge, userId, deviceId, handler, maxFrameBytes) { Tag = tag };

            // The upgrade uses blocking calls (the runtime's socket engine must never see this
            // socket, or it would wake for every frame too): a thread of its own, not a pool thread.
            polled._polled = await Task.Factory.StartNew(
                () => PolledWebSocket.Connect(edge.WebSocketUri, token, poller, polled, maxFrameBytes, PolledSocketTimeout, cancellationToken),
                cancellationToken,
                TaskCreationOptions.LongRunning,
                TaskScheduler.Default);
            polled._receiveLoop = polled.WatchPolledAsync();
            return polled;
        }

        var socket = new ClientWebSocket();

        // No client pings: each socket's keep-alive is a timer, and one process holds 10,240 sockets
        // in groups of 1,024, where walking the timer queue took 2.6 % of a generator's samples.
        // The Edge's own keep-alive still pings every socket.
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            await socket.ConnectAsync(edge.WebSocketUri, invoker, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var connection = new EdgeConnection(socket, edge, userId, deviceId, handler, maxFrameBytes) { Tag = tag };
        connection._receiveLoop = Task.Run(connection.ReceiveLoopAsync, CancellationToken.None);
        connection._sendLoop = Task.Run(connection.SendLoopAsync, CancellationToken.None);
        return connection;
    }

    /// <summary>Swaps the frame handler (setup and load phases handle frames differently).</summary>
    public void UseHandler(IServerFrameHandler handler) => Volatile.Write(ref _handler, handler);

    /// <summary>Queues a frame; false only once the connection is closing.</summary>
    public bool TryEnqueue(ClientFrame frame)
    {
        if (_polled is null)
        {
            return _outgoing.Writer.TryWrite(frame);
        }

        var writer = _threadFrameWriter ??= new FrameWriter();
        if (!_polled.TrySendText(writer.Write(frame).Span))
        {
            return false;
        }

        Interlocked.Increment(ref _framesSent);
        return true;
    }

    /// <summary>Sends a frame with an <c>id</c> and waits for the reply that echoes it (an <c>error</c> reply included).</summary>
    public async Task<ServerFrame> RequestAsync(ClientFrame frame, CancellationToken cancellationToken)
    {
        var id = frame.Id ?? throw new ArgumentException("A request needs an id.", nameof(frame));
        var reply = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_pending.TryAdd(id, reply))
        {
            throw new InvalidOperationException($"Request id '{id}' is already pending.");
        }

        try
        {
            if (!TryEnqueue(frame))
            {
                throw new WebSocketException(WebSocketError.InvalidState, $"Connection of {DeviceId} is closed.");
            }

            return await reply.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        if (_polled is { } polled)
        {
            if (polled.IsOpen && polled.TrySendClose(WebSocketCloseStatus.NormalClosure, "bench done"))
            {
                // The server's close frame ends it; a server that is gone or slow is not waited for.
                await polled.Completion.WaitAsync(TimeSpan.FromSeconds(2)).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            polled.Dispose();
            await _receiveLoop.ContinueWith(static _ => { }, TaskScheduler.Default);
            _stop.Dispose();
            return;
        }

        try
        {
            if (_socket!.State == WebSocketState.Open)
            {
                using var closeTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _sendLoop.WaitAsync(closeTimeout.Token);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "bench done", closeTimeout.Token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or TimeoutException)
        {
            // The server is gone or slow to close: abort below, the bench has what it needs.
        }

        await _stop.CancelAsync();
        _socket!.Abort();
        await Task.WhenAll(_receiveLoop, _sendLoop).ContinueWith(static _ => { }, TaskScheduler.Default);
        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task SendLoopAsync()
    {
        using var writer = new FrameWriter();
        try
        {
            await foreach (var frame in _outgoing.Reader.ReadAllAsync(_stop.Token))
            {
                // The bytes stay the writer's until its next Write, which comes after this send completed.
                await _socket!.SendAsync(writer.Write(frame), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);
                Interlocked.Increment(ref _framesSent);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Closed under us: the receive loop reports how the connection ended.
        }
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(InitialReceiveBufferBytes);
        var filled = 0;
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                // No token: ManagedWebSocket registers a cancelable one at every receive and send (the
                // generator shares the cores it measures); DisposeAsync aborts the socket instead.
                var result = await _socket!.ReceiveAsync(buffer.AsMemory(filled), CancellationToken.None);
                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                filled += result.Count;
                if (result.EndOfMessage)
                {
                    Interlocked.Increment(ref _framesReceived);
                    Dispatch(buffer.AsSpan(0, filled));
                    filled = 0;
                }
                else if (filled == buffer.Length)
                {
                    if (buffer.Length >= _maxFrameBytes)
                    {
                        throw new WebSocketException(WebSocketError.Faulted, $"A server frame exceeded {_maxFrameBytes} bytes.");
                    }

                    var larger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                    buffer.AsSpan(0, filled).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ObjectDisposedException)
        {
            // Closing or closed by the server; waiters are failed below.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            FailPending(_socket!.CloseStatus, _socket.CloseStatusDescription);
        }
    }

    /// <summary>The polled socket's counterpart of the receive loop: fails the waiters once it ended.</summary>
    private async Task WatchPolledAsync()
    {
        try
        {
            await _polled!.Completion;
        }
        catch (Exception ex) when (ex is WebSocketException or System.Net.Sockets.SocketException)
        {
            // Closed or failed; waiters are failed below, as with ClientWebSocket.
        }
        finally
        {
            FailPending(_polled!.CloseStatus, _polled.CloseStatusDescription);
        }
    }

    private void FailPending(WebSocketCloseStatus? status, string? description)
    {
        _outgoing.Writer.TryComplete();
        foreach (var pending in _pending.Values)
        {
            pending.TrySetException(new WebSocketException(WebSocketError.ConnectionClosedPrematurely, $"Connection of {DeviceId} closed ({status} {description})."));
        }
    }

    void IPolledWebSocketOwner.OnMessage(ReadOnlySpan<byte> payload)
    {
        Interlocked.Increment(ref _framesReceived);
        Dispatch(payload);
    }

    private void Dispatch(ReadOnlySpan<byte> utf8)
    {
        var scanned = ServerFrameScanner.Scan(utf8);

        // Replies to awaited requests need the id, which the scan skips: only decode in full
        // while a request is pending (set-up), never during the load itself.
        if (scanned.Kind != ScannedFrameKind.Other && _pending.IsEmpty)
        {
            _handler.OnScanned(this, scanned);
            return;
        }

        var decoded = Codecs.ServerFrames.Decode(utf8);
        if (!decoded.IsOk || decoded.Value is null)
        {
            _handler.OnOther(this, new ErrorFrame(null, "bench_undecodable", decoded.Error ?? "undecodable server frame"));
            return;
        }

        var id = ReplyId(decoded.Value);
        if (id is not null && _pending.TryRemove(id, out var waiter))
        {
            waiter.TrySetResult(decoded.Value);
            return;
        }

        if (scanned.Kind != ScannedFrameKind.Other)
        {
            _handler.OnScanned(this, scanned);
            return;
        }

        _handler.OnOther(this, decoded.Value);
    }

    private static string? ReplyId(ServerFrame frame) => frame switch
    {
        ChatCreatedFrame created => created.Id,
        MessageAcceptedFrame accepted => accepted.Id,
        AcceptedFrame accepted => accepted.Id,
        SyncDoneFrame done => done.Id,
        HistoryPageFrame page => page.Id,
        MediaUploadUrlFrame upload => upload.Id,
        ErrorFrame error => error.Id,
        PongFrame pong => pong.Id,
        _ => null,
    };

    /// <summary>
    /// Serializes frames to UTF-8: one per polled sending thread, kept for the thread's life, and
    /// one per managed send loop. What <see cref="Write"/> returns is valid until its next call.
    /// </summary>
    private sealed class FrameWriter : IDisposable
    {
        private readonly ArrayBufferWriter<byte> _buffer = new(512);
        private readonly Utf8JsonWriter _writer;

        public FrameWriter() => _writer = new Utf8JsonWriter(_buffer);

        public ReadOnlyMemory<byte> Write(ClientFrame frame)
        {
            _buffer.ResetWrittenCount();
            _writer.Reset(_buffer);
            JsonSerializer.Serialize(_writer, frame, ContractsJsonContext.Default.ClientFrame);
            _writer.Flush();
            return _buffer.WrittenMemory;
        }

        public void Dispose() => _writer.Dispose();
    }
}
