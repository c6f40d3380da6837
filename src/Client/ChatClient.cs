using System.Buffers;
using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using Messaging.Contracts.Commands;
using Messaging.Contracts.Protocol;
using Messaging.Contracts.Serialization;

namespace Messaging.Client;

/// <summary>
/// A small client for the Messaging WebSocket protocol v1 (docs/protocol.md), used by the tests
/// and the bench tool.
/// <code>
/// var token = await ChatClient.GetDevTokenAsync(new Uri("http://127.0.0.1:5080"), "ana", "ana-phone", ct);
/// await using var client = await ChatClient.ConnectAsync(new Uri("ws://127.0.0.1:5080/ws"), token, ct);
/// var chatId = await client.CreateChatAsync(["bo"], "lunch", ct);
/// var accepted = await client.SendMessageAsync(chatId, "hi", ct: ct);        // durable in Kafka
/// var pushed = await client.WaitForAsync&lt;MessageFrame&gt;(m => m.MessageId == accepted.MessageId, TimeSpan.FromSeconds(10), ct);
/// await client.AckAsync(pushed.ChatId, pushed.Seq, ct);
/// var backlog = await client.SyncAsync(ct: ct);                               // after a reconnect
/// </code>
/// Request helpers (<see cref="RequestAsync{TReply}"/> and the typed ones) are safe to call
/// concurrently: each gets a fresh frame id and its reply is matched by id; an <c>error</c>
/// reply throws <see cref="ChatServerException"/>. Every other frame (pushes, replies to
/// <see cref="SendAsync"/>) goes to <see cref="ChatClientOptions.OnFrame"/> and, unless
/// <see cref="ChatClientOptions.BufferFrames"/> is off, to <see cref="Frames"/>, which
/// <see cref="WaitForAsync{TFrame}"/> and <see cref="SyncAsync"/> read (one reader at a time).
/// </summary>
public sealed partial class ChatClient : IAsyncDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly ClientWebSocket _socket;
    private readonly ChatClientOptions _options;
    private readonly Channel<ServerFrame> _frames = Channel.CreateUnbounded<ServerFrame>(new UnboundedChannelOptions { SingleWriter = true });
    private readonly ConcurrentDictionary<string, TaskCompletionSource<ServerFrame>> _pending = new(StringComparer.Ordinal);
    private readonly List<ServerFrame> _skipped = [];
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly SemaphoreSlim _readLock = new(1, 1);
    private readonly ArrayBufferWriter<byte> _sendBuffer = new(1024);
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiveLoop;
    private readonly TaskCompletionSource<WebSocketCloseStatus?> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Utf8JsonWriter? _jsonWriter;
    private long _nextId;
    private int _disposed;
    private long _undecodable;

    private ChatClient(ClientWebSocket socket, ChatClientOptions options)
    {
        _socket = socket;
        _options = options;
        _receiveLoop = Task.Run(ReceiveLoopAsync);
    }

    /// <summary>Every frame that is not a reply to a request helper, in arrival order.</summary>
    public ChannelReader<ServerFrame> Frames => _frames.Reader;

    /// <summary>Completes when the connection is closed; the value is the server's close status.</summary>
    public Task<WebSocketCloseStatus?> Closed => _closed.Task;

    /// <summary>The close status the server sent (4002 replaced, 4003 slow consumer, …), once closed.</summary>
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public string? CloseStatusDescription => _socket.CloseStatusDescription;

    public WebSocketState State => _socket.State;

    /// <summary>Frames from the server that did not decode (should stay 0).</summary>
    public long UndecodableFrames => Interlocked.Read(ref _undecodable);

    /// <summary>Opens a WebSocket to <paramref name="edgeWs"/> (e.g. <c>ws://host:port/ws</c>) with a bearer token.</summary>
    public static Task<ChatClient> ConnectAsync(Uri edgeWs, string token, CancellationToken cancellationToken = default) =>
        ConnectAsync(edgeWs, token, null, cancellationToken);

    /// <summary>Opens a WebSocket to <paramref name="edgeWs"/> with a bearer token and client options.</summary>
    public static async Task<ChatClient> ConnectAsync(Uri edgeWs, string token, ChatClientOptions? options, CancellationToken cancellationToken = default)
    {
        options ??= new ChatClientOptions();
        var socket = new ClientWebSocket();
        try
        {
            var uri = edgeWs;
            if (options.TokenInQuery)
            {
                var query = "access_token=" + Uri.EscapeDataString(token);
                uri = new UriBuilder(edgeWs) { Query = string.IsNullOrEmpty(edgeWs.Query) ? query : edgeWs.Query.TrimStart('?') + "&" + query }.Uri;
            }
            else
            {
                socket.Options.SetRequestHeader("Authorization", "Bearer " + token);
            }

            await socket.ConnectAsync(uri, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }

        var client = new ChatClient(socket, options);
        if (options.WaitUntilReady)
        {
            try
            {
                // The server answers frames only after the device is registered and its session is
                // announced: a ping round trip means others can now reach this device live.
                await client.PingAsync(cancellationToken);
            }
            catch (ChatConnectionClosedException)
            {
                // Refused right after the upgrade (e.g. too_many_devices): the buffered error frame
                // and the close status tell the caller why.
            }
        }

        return client;
    }

    /// <summary>
    /// Asks <c>POST /v1/dev/tokens</c> for a token (only served when the server runs with
    /// <c>Auth:DevTokens=true</c>). <paramref name="edgeHttp"/> is the server's base address.
    /// </summary>
    public static async Task<string> GetDevTokenAsync(Uri edgeHttp, string userId, string deviceId, CancellationToken cancellationToken = default)
    {
        using var http = new HttpClient();
        return await GetDevTokenAsync(edgeHttp, userId, deviceId, http, cancellationToken);
    }

    /// <summary>As <see cref="GetDevTokenAsync(Uri, string, string, CancellationToken)"/> through the caller's <see cref="HttpClient"/>.</summary>
    public static async Task<string> GetDevTokenAsync(Uri edgeHttp, string userId, string deviceId, HttpClient http, CancellationToken cancellationToken = default)
    {
        var body = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(body))
        {
            writer.WriteStartObject();
            writer.WriteString("userId"u8, userId);
            writer.WriteString("deviceId"u8, deviceId);
            writer.WriteEndObject();
        }

        using var content = new ReadOnlyMemoryContent(body.WrittenMemory);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await http.PostAsync(new Uri(edgeHttp, "/v1/dev/tokens"), content, cancellationToken);
        response.EnsureSuccessStatusCode();
        var bytes = await response.Content.ReadAsByteArrayAsync(cancellationToken);
        return ReadToken(bytes) ?? throw new InvalidOperationException("The token response has no 'token'.");
    }

    /// <summary>A new request id, unique on this connection.</summary>
    public string NextId() => "r" + Interlocked.Increment(ref _nextId).ToString(CultureInfo.InvariantCulture);

    /// <summary>Sends a frame as is (no reply matching: its reply goes to <see cref="Frames"/>).</summary>
    public async Task SendAsync(ClientFrame frame, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            _sendBuffer.ResetWrittenCount();
            if (_jsonWriter is null)
            {
                _jsonWriter = new Utf8JsonWriter(_sendBuffer, WriterOptions);
            }
            else
            {
                _jsonWriter.Reset(_sendBuffer);
            }

            JsonSerializer.Serialize(_jsonWriter, frame, ContractsJsonContext.Default.ClientFrame);
            _jsonWriter.Flush();
            await _socket.SendAsync(_sendBuffer.WrittenMemory, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>Sends raw bytes (tests use it for malformed, oversize and binary frames).</summary>
    public async Task SendRawAsync(ReadOnlyMemory<byte> bytes, WebSocketMessageType type = WebSocketMessageType.Text, bool endOfMessage = true, CancellationToken cancellationToken = default)
    {
        await _sendLock.WaitAsync(cancellationToken);
        try
        {
            await _socket.SendAsync(bytes, type, endOfMessage, cancellationToken);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    /// <summary>
    /// Sends <paramref name="frame"/> with a fresh id and returns the reply with that id.
    /// Throws <see cref="ChatServerException"/> for an <c>error</c> reply, <see cref="TimeoutException"/>
    /// after <see cref="ChatClientOptions.RequestTimeout"/>, <see cref="ChatConnectionClosedException"/> if the socket closes.
    /// </summary>
    public async Task<TReply> RequestAsync<TReply>(ClientFrame frame, CancellationToken cancellationToken = default)
        where TReply : ServerFrame
    {
        var id = NextId();
        var pending = new TaskCompletionSource<ServerFrame>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = pending;
        try
        {
            if (_closed.Task.IsCompleted)
            {
                throw new ChatConnectionClosedException((int?)_socket.CloseStatus, _socket.CloseStatusDescription);
            }

            await SendAsync(frame with { Id = id }, cancellationToken);
            ServerFrame reply;
            try
            {
                reply = await pending.Task.WaitAsync(_options.RequestTimeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No reply to '{id}' ({frame.GetType().Name}) within {_options.RequestTimeout.TotalSeconds:0.#} s.");
            }

            return reply switch
            {
                TReply typed => typed,
                ErrorFrame error => throw new ChatServerException(error),
                _ => throw new InvalidOperationException($"Expected {typeof(TReply).Name} for '{id}', got {reply.GetType().Name}."),
            };
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Creates a group chat with the caller and <paramref name="members"/>; returns its id.</summary>
    public async Task<string> CreateChatAsync(IReadOnlyList<string> members, string? title = null, CancellationToken cancellationToken = default)
    {
        var reply = await RequestAsync<ChatCreatedFrame>(new CreateChatFrame { Members = members, Title = title }, cancellationToken);
        return reply.ChatId;
    }

    /// <summary>Sends a message to a chat; returns once it is durable (<c>message.accepted</c>).</summary>
    public Task<MessageAcceptedFrame> SendMessageAsync(string chatId, string body, string? clientMsgId = null, IReadOnlyList<Attachment>? attachments = null, CancellationToken cancellationToken = default) =>
        RequestAsync<MessageAcceptedFrame>(
            new SendMessageFrame { ChatId = chatId, ClientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N"), Body = body, Attachments = attachments },
            cancellationToken);

    /// <summary>Sends a message in the direct chat with <paramref name="toUserId"/> (created by the first message).</summary>
    public Task<MessageAcceptedFrame> SendDirectMessageAsync(string toUserId, string body, string? clientMsgId = null, CancellationToken cancellationToken = default) =>
        RequestAsync<MessageAcceptedFrame>(
            new SendMessageFrame { ToUserId = toUserId, ClientMsgId = clientMsgId ?? Guid.NewGuid().ToString("N"), Body = body },
            cancellationToken);

    /// <summary>Acknowledges everything in <paramref name="chatId"/> up to <paramref name="seq"/> (no reply).</summary>
    public Task AckAsync(string chatId, long seq, CancellationToken cancellationToken = default) =>
        SendAsync(new AckFrame { ChatId = chatId, Seq = seq }, cancellationToken);

    public Task<AcceptedFrame> AddMembersAsync(string chatId, IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new AddMembersFrame { ChatId = chatId, UserIds = userIds }, cancellationToken);

    public Task<AcceptedFrame> RemoveMemberAsync(string chatId, string userId, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new RemoveMemberFrame { ChatId = chatId, UserId = userId }, cancellationToken);

    public Task<AcceptedFrame> LeaveChatAsync(string chatId, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new LeaveChatFrame { ChatId = chatId }, cancellationToken);

    public Task<AcceptedFrame> GrantAdminAsync(string chatId, string userId, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new GrantAdminFrame { ChatId = chatId, UserId = userId }, cancellationToken);

    public Task<AcceptedFrame> RemoveDeviceAsync(string deviceId, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new RemoveDeviceFrame { DeviceId = deviceId }, cancellationToken);

    public Task<HistoryPageFrame> HistoryAsync(string chatId, long? beforeSeq = null, int? limit = null, CancellationToken cancellationToken = default) =>
        RequestAsync<HistoryPageFrame>(new HistoryFrame { ChatId = chatId, BeforeSeq = beforeSeq, Limit = limit }, cancellationToken);

    public Task<MediaUploadUrlFrame> RequestUploadAsync(string contentType, long size, string? fileName = null, CancellationToken cancellationToken = default) =>
        RequestAsync<MediaUploadUrlFrame>(new UploadMediaFrame { ContentType = contentType, Size = size, FileName = fileName }, cancellationToken);

    public Task<PongFrame> PingAsync(CancellationToken cancellationToken = default) =>
        RequestAsync<PongFrame>(new PingFrame(), cancellationToken);

    /// <summary>Whether <paramref name="userIds"/> are online now (users the caller shares a chat with; <c>not_member</c> otherwise).</summary>
    public async Task<IReadOnlyList<UserPresence>> GetPresenceAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        (await RequestAsync<PresenceFrame>(new GetPresenceFrame { UserIds = userIds }, cancellationToken)).Users;

    /// <summary>
    /// Starts watching <paramref name="userIds"/>: returns their presence now; afterwards every
    /// change arrives as a <see cref="PresenceChangedFrame"/> in <see cref="Frames"/> (or
    /// <see cref="ChatClientOptions.OnFrame"/>) until <see cref="UnwatchPresenceAsync"/> or disconnect.
    /// </summary>
    public async Task<IReadOnlyList<UserPresence>> WatchPresenceAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        (await RequestAsync<PresenceFrame>(new WatchPresenceFrame { UserIds = userIds }, cancellationToken)).Users;

    public Task<AcceptedFrame> UnwatchPresenceAsync(IReadOnlyList<string> userIds, CancellationToken cancellationToken = default) =>
        RequestAsync<AcceptedFrame>(new UnwatchPresenceFrame { UserIds = userIds }, cancellationToken);

    /// <summary>
    /// Sends <c>sync</c> and collects the <c>message</c>/<c>chat.updated</c> frames until
    /// <c>sync.done</c> (live pushes that arrive meanwhile are included: de-duplicate by
    /// messageId/seq). With <paramref name="ackAll"/> it then acks the highest seq per chat.
    /// Needs <see cref="ChatClientOptions.BufferFrames"/>.
    /// </summary>
    public async Task<SyncResult> SyncAsync(int? limit = null, bool ackAll = false, CancellationToken cancellationToken = default)
    {
        if (!_options.BufferFrames)
        {
            throw new InvalidOperationException("SyncAsync needs ChatClientOptions.BufferFrames.");
        }

        // The receive loop handles frames in arrival order, so every frame the server streamed
        // before sync.done is already buffered when the reply completes.
        var done = await RequestAsync<SyncDoneFrame>(new SyncFrame { Limit = limit }, cancellationToken);
        var collected = new List<ServerFrame>();
        await _readLock.WaitAsync(cancellationToken);
        try
        {
            for (var i = 0; i < _skipped.Count; i++)
            {
                if (IsChatEvent(_skipped[i]))
                {
                    collected.Add(_skipped[i]);
                    _skipped.RemoveAt(i--);
                }
            }

            while (_frames.Reader.TryRead(out var frame))
            {
                if (IsChatEvent(frame))
                {
                    collected.Add(frame);
                }
                else
                {
                    _skipped.Add(frame);
                }
            }
        }
        finally
        {
            _readLock.Release();
        }

        if (ackAll)
        {
            var highest = new Dictionary<string, long>(StringComparer.Ordinal);
            foreach (var frame in collected)
            {
                var (chatId, seq) = PositionOf(frame);
                highest[chatId] = Math.Max(seq, highest.GetValueOrDefault(chatId));
            }

            foreach (var (chatId, seq) in highest)
            {
                await AckAsync(chatId, seq, cancellationToken);
            }
        }

        return new SyncResult(collected, done.Count);
    }

    /// <summary>
    /// Waits for the next buffered frame of type <typeparamref name="TFrame"/> matching
    /// <paramref name="predicate"/>. Frames it passes over are kept for later calls.
    /// </summary>
    public async Task<TFrame> WaitForAsync<TFrame>(Func<TFrame, bool>? predicate, TimeSpan timeout, CancellationToken cancellationToken = default)
        where TFrame : ServerFrame
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        await _readLock.WaitAsync(cancellationToken);
        try
        {
            for (var i = 0; i < _skipped.Count; i++)
            {
                if (_skipped[i] is TFrame match && (predicate is null || predicate(match)))
                {
                    _skipped.RemoveAt(i);
                    return match;
                }
            }

            try
            {
                while (true)
                {
                    var frame = await _frames.Reader.ReadAsync(deadline.Token);
                    if (frame is TFrame match && (predicate is null || predicate(match)))
                    {
                        return match;
                    }

                    _skipped.Add(frame);
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"No {typeof(TFrame).Name} matched within {timeout.TotalSeconds:0.#} s; passed over: {string.Join(", ", _skipped.TakeLast(10))}");
            }
            catch (ChannelClosedException)
            {
                throw new ChatConnectionClosedException((int?)_socket.CloseStatus, _socket.CloseStatusDescription);
            }
        }
        finally
        {
            _readLock.Release();
        }
    }

    /// <summary>Closes the connection normally and waits for the server's close.</summary>
    public async Task CloseAsync(CancellationToken cancellationToken = default)
    {
        if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
        {
            try
            {
                await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", cancellationToken);
            }
            catch (WebSocketException)
            {
                // Already gone: nothing left to close.
            }
        }

        await _stop.CancelAsync();
        try
        {
            await _receiveLoop.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Closes and releases the connection; a second call does nothing (an owner and a test may both dispose it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await CloseAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            _socket.Abort();
        }

        _socket.Dispose();
        _stop.Dispose();
        _sendLock.Dispose();
        _readLock.Dispose();
        _jsonWriter?.Dispose();
    }

    private async Task ReceiveLoopAsync()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (!_stop.IsCancellationRequested)
            {
                var length = 0;
                ValueWebSocketReceiveResult result;
                do
                {
                    if (length == buffer.Length)
                    {
                        if (buffer.Length >= _options.MaxReceiveFrameBytes)
                        {
                            throw new InvalidOperationException($"Server frame larger than {_options.MaxReceiveFrameBytes} bytes.");
                        }

                        var bigger = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, _options.MaxReceiveFrameBytes));
                        buffer.AsSpan(0, length).CopyTo(bigger);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }

                    result = await _socket.ReceiveAsync(buffer.AsMemory(length), _stop.Token);
                    length += result.Count;
                }
                while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);

                if (result.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                var frame = Decode(buffer, length);
                if (frame is null)
                {
                    Interlocked.Increment(ref _undecodable);
                    continue;
                }

                Dispatch(frame);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (WebSocketException)
        {
        }
        catch (InvalidOperationException)
        {
            _socket.Abort();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _frames.Writer.TryComplete();
            var closed = new ChatConnectionClosedException((int?)_socket.CloseStatus, _socket.CloseStatusDescription);
            foreach (var pending in _pending.Values)
            {
                pending.TrySetException(closed);
            }

            _closed.TrySetResult(_socket.CloseStatus);
        }
    }

    private void Dispatch(ServerFrame frame)
    {
        _options.OnFrame?.Invoke(frame);
        if (ReplyId(frame) is { } id && _pending.TryRemove(id, out var pending))
        {
            pending.TrySetResult(frame);
            return;
        }

        if (_options.BufferFrames)
        {
            _frames.Writer.TryWrite(frame);
        }
    }

    private static ServerFrame? Decode(byte[] buffer, int length)
    {
        var decoded = Codecs.ServerFrames.Decode(buffer.AsSpan(0, length));
        return decoded.IsOk ? decoded.Value : null;
    }

    private static string? ReplyId(ServerFrame frame) => frame switch
    {
        ChatCreatedFrame f => f.Id,
        MessageAcceptedFrame f => f.Id,
        AcceptedFrame f => f.Id,
        SyncDoneFrame f => f.Id,
        HistoryPageFrame f => f.Id,
        MediaUploadUrlFrame f => f.Id,
        ErrorFrame f => f.Id,
        PongFrame f => f.Id,
        PresenceFrame f => f.Id,
        SettingsFrame f => f.Id,
        _ => null,
    };

    private static string? ReadToken(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1 && reader.ValueTextEquals("token"u8))
            {
                reader.Read();
                return reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            }
        }

        return null;
    }
}
