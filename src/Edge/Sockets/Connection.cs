using System.Net.WebSockets;
using Messaging.Contracts;
using Messaging.Contracts.Protocol;
using Messaging.Edge.RateLimits;
using Messaging.Edge.Telemetry;

namespace Messaging.Edge.Sockets;

/// <summary>
/// One live session of one device on this node: its identity, its bounded send queue, and (for a
/// WebSocket) the send loop that is the only writer to the socket (WebSocket sends must not
/// overlap). The HTTP fallback drains the same queue into its event stream (EventStreamSession).
/// </summary>
internal sealed class Connection : IDisposable
{
    private readonly ILogger _logger;
    private readonly EdgeMetrics _metrics;
    private readonly TimeSpan _closeTimeout;
    private readonly CancellationTokenSource _closeDeadline = new();
    // Held while a frame is written straight to the socket, and by the send loop while it starts
    // or stops writing: a direct write happens only when the loop holds no frame, so frames keep
    // the order they were pushed in.
    private readonly Lock _writeGate = new();
    private static int _lastPushLane;
    private SocketFrameWriter? _writer;
    private bool _loopWriting;
    private int _closeCode;
    private string _closeReason = "";

    public Connection(DeviceRef device, EdgeOptions options, RateLimitOptions rateLimits, EdgeMetrics metrics, ILogger logger)
    {
        _logger = logger;
        _metrics = metrics;
        Device = device;
        Address = device.Address;
        AddressHash = HashOf(Address);
        SessionId = Guid.CreateVersion7().ToString();
        _closeTimeout = options.CloseTimeout;
        // Sync pages are paced by the client: one page of room is enough to keep the socket busy.
        Queue = new SendQueue(
            options.SendQueueCapacity,
            Math.Max(1, Math.Min(options.SyncPageSize, options.SendQueueCapacity)),
            options.MaxQueuedBytesPerConnection,
            options.SyncQueueBytes);
        Inflight = new SemaphoreSlim(options.MaxInflightRequests, options.MaxInflightRequests);
        Ackable = new AckableSeqs(options.AckableChatsPerConnection);
        RateLimits = new FrameRateLimiter(rateLimits);
    }

    public DeviceRef Device { get; }

    /// <summary>Picks this socket's <see cref="PushLanes"/> lane (round robin over connections).</summary>
    public int PushLane { get; } = (int)((uint)Interlocked.Increment(ref _lastPushLane) & int.MaxValue);

    /// <summary>
    /// The device's address <c>userId/deviceId</c> (<see cref="DeviceRef.Address"/>), built once:
    /// the key of this socket in the registry and of its <c>device.sessions</c> and
    /// <c>device.acks</c> records. A device id alone is unique only within its user.
    /// </summary>
    public string Address { get; }

    /// <summary>
    /// <see cref="Address"/>'s ordinal hash, computed once: it picks the registry's lock stripe and
    /// the session renewal slice, which walk every socket (10,240 per node in groups of 1,024).
    /// </summary>
    public uint AddressHash { get; }

    /// <summary>The <see cref="AddressHash"/> of <paramref name="address"/>.</summary>
    public static uint HashOf(string address) => (uint)StringComparer.Ordinal.GetHashCode(address);

    /// <summary>When the socket's token was issued (<c>iat</c>): a removal after it closes the socket, one before it does not.</summary>
    public DateTimeOffset TokenIssuedAt { get; init; }

    /// <summary>Unique per socket: the Router routes to the latest session of a device.</summary>
    public string SessionId { get; }

    public SendQueue Queue { get; }

    /// <summary>Chat seqs this device may ack without a read-model lookup (pushed to it, or checked before).</summary>
    public AckableSeqs Ackable { get; }
    /// <summary>This device's request budgets (<c>RateLimits:*</c>).</summary>
    public FrameRateLimiter RateLimits { get; }

    /// <summary>Bounds the requests of this connection processed at once.</summary>
    public SemaphoreSlim Inflight { get; }

    /// <summary>Cancelled when the server closes the connection and the close did not finish in time.</summary>
    public CancellationToken CloseDeadline => _closeDeadline.Token;

    public bool IsClosing => Volatile.Read(ref _closeCode) != 0;

    /// <summary>
    /// The last command of this connection that had to await a read-model lookup before its
    /// produce (see <c>ChatCommandHandler</c>); later commands wait for it so commands still reach
    /// <c>chat.commands</c> in frame order. Set and read only by the receive loop.
    /// </summary>
    public Task CommandTail { get; set; } = Task.CompletedTask;

    /// <summary>Went online (<c>SessionHost.StartAsync</c> succeeded): its end counts as a closed connection.</summary>
    public bool Started { get; set; }

    /// <summary>Chats where this device is typing, for the <c>stopped</c> its session's end sends.</summary>
    public Conversation.TypingChats Typing { get; } = new();

    /// <summary>A newer socket of this device opened on another Edge node (see <c>CrossNodeReplacement</c>).</summary>
    public bool ReplacedElsewhere { get; set; }

    /// <summary>Announced offline by a drain before its socket closes (see <c>EdgeDrain</c>): no heartbeat, no second offline record.</summary>
    public bool Withdrawn { get; set; }

    /// <summary>The close code this side asked for (0 while open).</summary>
    public int CloseCode => Volatile.Read(ref _closeCode);

    /// <summary>Why this side closed ("" while open or for a normal close).</summary>
    public string CloseReason => _closeReason;

    /// <summary>
    /// Queues a live frame. A full queue means the client is not reading: the connection is
    /// closed with <see cref="CloseCodes.SlowConsumer"/> (it will sync from its inbox when back).
    /// </summary>
    public bool TryPush(SharedFrame frame)
    {
        if (frame.ChatId is { } chatId)
        {
            // The Router listed this device as a recipient of that event: it may ack it. Noted
            // before the frame is queued: noted after, the send loop could write it and the
            // device's ack arrive first, and the ack then fell back to the read models, which may
            // not hold the seq yet (bad_frame in bench runs, 2026-11-26, more often once pushes
            // left the Router on their own producer, ahead of chat.events). A frame that is not
            // queued closes or has closed the connection, so nothing can ack on its strength.
            Ackable.Note(chatId, frame.Seq);
        }

        if (_writer is { } writer && TryWriteNow(writer, frame))
        {
            return true;
        }

        switch (Queue.TryEnqueue(frame))
        {
            case EnqueueResult.Enqueued:
                return true;
            case EnqueueResult.Full:
                EdgeLog.SlowConsumer(_logger, Address, Queue.Count, Queue.QueuedBytes, Queue.PeakQueuedBytes);
                _metrics.SlowConsumerClosed();
                Close(CloseCodes.SlowConsumer, "send queue full");
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// Writes WebSocket frames through <paramref name="writer"/>, straight to the socket: a push
    /// to an idle socket is written at once by the thread that pushes it (see <see cref="SocketFrameWriter"/>).
    /// </summary>
    public void WriteDirectly(SocketFrameWriter writer) => _writer = writer;

    /// <summary>Whether frames go straight to the socket (<see cref="WriteDirectly"/>).</summary>
    public bool WritesDirectly => _writer is not null;

    /// <summary>Writes <paramref name="frame"/> now if the socket is idle: nothing queued, the send loop holding none, no earlier write draining.</summary>
    private bool TryWriteNow(SocketFrameWriter writer, SharedFrame frame)
    {
        lock (_writeGate)
        {
            // Queued bytes, not Count: one volatile read instead of a lock on each channel per copy;
            // a frame being queued has its bytes reserved first, so zero means nothing is queued.
            if (_loopWriting || IsClosing || Queue.QueuedBytes != 0 || !writer.TryWriteNow(frame.Wire.Span))
            {
                return false;
            }
        }

        _metrics.FrameOut(frame.Type);
        return true;
    }

    /// <summary>Encodes and queues one frame for this socket only (replies).</summary>
    public bool TryPush(ServerFrame frame)
    {
        if (frame is ErrorFrame error)
        {
            _metrics.Refused(error.Code);
        }

        var shared = SharedFrame.Encode(frame);
        try
        {
            return TryPush(shared);
        }
        finally
        {
            shared.Release();
        }
    }

    /// <summary>
    /// Asks the send loop to close the socket with <paramref name="code"/> after the frames already
    /// queued (except for a slow consumer: they are dropped). The first close wins. If the close
    /// handshake does not finish within <c>Edge:CloseTimeoutSeconds</c> the socket is aborted.
    /// </summary>
    public void Close(int code, string reason)
    {
        if (Interlocked.CompareExchange(ref _closeCode, code, 0) != 0)
        {
            return;
        }

        _closeReason = reason;
        if (code != (int)WebSocketCloseStatus.NormalClosure)
        {
            EdgeLog.Closing(_logger, Device.UserId, Device.DeviceId, reason, code);
        }

        Queue.Complete();
        if (code == CloseCodes.SlowConsumer)
        {
            Queue.DropPending();
        }

        try
        {
            _closeDeadline.CancelAfter(_closeTimeout);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>Writes queued frames until the connection closes, then performs the close handshake.</summary>
    public async Task RunSendLoopAsync(WebSocket socket, CancellationToken aborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(aborted, _closeDeadline.Token);
        var token = linked.Token;

        // Frames are sent without a token: ManagedWebSocket sends on its fast path only when the
        // token cannot be cancelled; with one, every frame took its async fallback and a token
        // registration (the path that held the sends, 9.9 % of an Edge node's samples in groups of
        // 1,024; the saving itself was inside the benchmarks' noise, docs/benchmarks.md). Aborting
        // the socket fails a send in progress just the same.
        using var abortOnCancel = token.UnsafeRegister(static socket => ((WebSocket)socket!).Abort(), socket);
        try
        {
            while (await Queue.WaitToDequeueAsync(token))
            {
                SetLoopWriting(true);
                try
                {
                    while (Queue.TryDequeue(out var frame))
                    {
                        try
                        {
                            if (CloseCode != CloseCodes.SlowConsumer)
                            {
                                await WriteAsync(socket, frame);
                                _metrics.FrameOut(frame.Type);
                            }
                        }
                        finally
                        {
                            frame.Release();
                        }
                    }
                }
                finally
                {
                    SetLoopWriting(false);
                }
            }

            // No direct write from here on: the close frame is the last.
            SetLoopWriting(true);
            if (socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                var code = CloseCode == 0 ? (int)WebSocketCloseStatus.NormalClosure : CloseCode;
                await socket.CloseOutputAsync((WebSocketCloseStatus)code, _closeReason, token);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The peer vanished or did not finish the close in time: nothing more can be sent.
            socket.Abort();
        }
        finally
        {
            SetLoopWriting(true);
            _writer?.Close();
            Queue.Complete();
            Queue.DropPending();
        }
    }

    private ValueTask WriteAsync(WebSocket socket, SharedFrame frame) =>
        _writer is { } writer
            ? writer.WriteAsync(frame.Wire, CancellationToken.None)
            : socket.SendAsync(frame.Memory, WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    private void SetLoopWriting(bool writing)
    {
        lock (_writeGate)
        {
            _loopWriting = writing;
        }
    }

    // Inflight is not disposed: request tasks may still release it after the socket ended, and
    // a SemaphoreSlim whose wait handle was never used holds no unmanaged resource.
    public void Dispose()
    {
        _closeDeadline.Dispose();
        RateLimits.Dispose();
    }
}
